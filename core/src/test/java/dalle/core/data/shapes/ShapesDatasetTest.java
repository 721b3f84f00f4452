package dalle.core.data.shapes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import dalle.core.image.RgbImage;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShapesDatasetTest {

    @Test
    void sameSeedAndIndexGiveIdenticalPixelsAndCaption() {
        ShapesDataset a = ShapesDataset.train(42, 64);
        ShapesDataset b = ShapesDataset.train(42, 64);
        for (long i : new long[] {0, 1, 2, 17, 1_000_003, Long.MAX_VALUE}) {
            Example x = a.example(i);
            Example y = b.example(i);
            assertArrayEquals(x.image().chw(), y.image().chw(), "pixels of item " + i);
            assertEquals(x.caption(), y.caption(), "caption of item " + i);
            assertEquals(a.caption(i).text(), x.caption());
        }
    }

    @Test
    void differentSeedsSplitsAndIndicesGiveDifferentItems() {
        Set<String> captions = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            captions.add(ShapesDataset.train(1, 64).example(i).caption());
        }
        assertTrue(captions.size() > 40, "50 items, only " + captions.size() + " distinct captions");
        assertNotEquals(ShapesDataset.train(1, 64).scene(3), ShapesDataset.train(2, 64).scene(3));
        assertNotEquals(ShapesDataset.train(1, 64).scene(3), ShapesDataset.heldOut(1, 64).scene(3));
    }

    @Test
    void anIndexShowsTheSameSceneAtEveryResolution() {
        for (long i = 0; i < 20; i++) {
            Scene at64 = ShapesDataset.train(3, 64).scene(i);
            for (int res : new int[] {32, 128}) {
                ShapesDataset d = ShapesDataset.train(3, res);
                assertEquals(at64, d.scene(i));
                assertEquals(ShapesDataset.train(3, 64).caption(i), d.caption(i));
                RgbImage image = d.example(i).image();
                assertEquals(res, image.width());
                assertEquals(res, image.height());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ShapesDataset.train(3, 16));
    }

    @Test
    void objectsStayInsideTheImageAndNeverOverlap() {
        for (int res : new int[] {32, 64, 128}) {
            int n = res == 128 ? 300 : 1000;
            for (ShapesDataset d : List.of(ShapesDataset.train(11, res), ShapesDataset.heldOut(11, res))) {
                for (long i = 0; i < n; i++) {
                    Scene scene = d.scene(i);
                    RgbImage image = SceneRenderer.render(scene, res);
                    int separately = 0;
                    for (ShapeObject o : scene.objects()) {
                        int lit = lit(SceneRenderer.render(new Scene(List.of(o)), res));
                        assertTrue(lit > 0, "object drew no pixel at " + res + ": " + o);
                        separately += lit;
                    }
                    assertEquals(separately, lit(image), "objects overlap in " + scene + " at " + res);
                    for (int k = 0; k < res; k++) {
                        assertTrue(black(image, k, 0) && black(image, k, res - 1) && black(image, 0, k)
                                && black(image, res - 1, k), "object touches the border: " + scene + " at " + res);
                    }
                    if (scene.objects().size() == 2) {
                        assertTrue(scene.objects().get(0).gapTo(scene.objects().get(1)) >= SceneSampler.GAP - 1e-9);
                    }
                }
            }
        }
    }

    private static int lit(RgbImage image) {
        int n = 0;
        int plane = image.width() * image.height();
        for (int i = 0; i < plane; i++) {
            if (image.chw()[i] + image.chw()[plane + i] + image.chw()[2 * plane + i] > 0) {
                n++;
            }
        }
        return n;
    }

    private static boolean black(RgbImage image, int x, int y) {
        return image.get(0, x, y) == 0 && image.get(1, x, y) == 0 && image.get(2, x, y) == 0;
    }

    @Test
    void heldOutPairsNeverAppearInFiveThousandTrainingItems() {
        ShapesDataset train = ShapesDataset.train(2024, 64);
        Set<ColourShape> seen = new HashSet<>();
        long start = System.nanoTime();
        for (long i = 0; i < 5000; i++) {
            Example e = train.example(i);
            Scene scene = train.scene(i);
            for (ShapeObject o : scene.objects()) {
                assertFalse(Split.isHeldOut(o.pair()), "item " + i + " shows held-out " + o.pair());
                seen.add(o.pair());
            }
            for (ColourShape p : Split.HELD_OUT_PAIRS) {
                assertFalse(e.caption().contains(p.toString()), "caption " + i + " names " + p + ": " + e.caption());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "generated 5000 training items (64x64 image + caption, plus the scene again)"
                + " in %.2f s: %.0f items/s%n", seconds, 5000 / seconds);
        assertEquals(new HashSet<>(Split.TRAIN_PAIRS), seen, "every training pair appears");
    }

    @Test
    void everyHeldOutPairIsReachableThroughTheHeldOutSplit() {
        ShapesDataset heldOut = ShapesDataset.heldOut(2024, 64);
        Set<ColourShape> reached = new HashSet<>();
        Set<Integer> counts = new HashSet<>();
        for (long i = 0; i < 500; i++) {
            Scene scene = heldOut.scene(i);
            assertTrue(scene.objects().stream().anyMatch(o -> Split.isHeldOut(o.pair())),
                    "held-out item " + i + " shows no held-out pair: " + scene);
            scene.objects().stream().map(ShapeObject::pair).filter(Split::isHeldOut).forEach(reached::add);
            counts.add(scene.objects().size());
        }
        assertEquals(new HashSet<>(Split.HELD_OUT_PAIRS), reached);
        assertEquals(Set.of(1, 2), counts);
    }

    @Test
    void heldOutListIsAFifthOfThePairsAndLeavesEveryColourAndShapeInTraining() {
        assertEquals(40, Split.allPairs().size());
        assertEquals(8, Split.HELD_OUT_PAIRS.size());
        assertEquals(8, new HashSet<>(Split.HELD_OUT_PAIRS).size());
        assertEquals(32, Split.TRAIN_PAIRS.size());
        Set<Colour> colours = EnumSet.noneOf(Colour.class);
        Set<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
        Split.TRAIN_PAIRS.forEach(p -> {
            colours.add(p.colour());
            shapes.add(p.shape());
        });
        assertEquals(EnumSet.allOf(Colour.class), colours);
        assertEquals(EnumSet.allOf(ShapeKind.class), shapes);
    }

    @Test
    void evaluationCaptionsAreFixedAndRespectTheSplit() {
        List<String> singleSeen = ShapesDataset.evaluationCaptions(EvalSet.SINGLE_SEEN, 96, 0);
        List<String> singleHeldOut = ShapesDataset.evaluationCaptions(EvalSet.SINGLE_HELD_OUT, 24, 0);
        List<String> relationSeen = ShapesDataset.evaluationCaptions(EvalSet.RELATION_SEEN, 100, 0);
        List<String> relationHeldOut = ShapesDataset.evaluationCaptions(EvalSet.RELATION_HELD_OUT, 100, 0);

        assertEquals(relationHeldOut, ShapesDataset.evaluationCaptions(EvalSet.RELATION_HELD_OUT, 100, 0));
        assertEquals(96, new HashSet<>(singleSeen).size(), "32 pairs x (no size, small, large)");
        assertEquals(24, new HashSet<>(singleHeldOut).size(), "8 pairs x (no size, small, large)");
        assertEquals("a red square", singleHeldOut.get(0));
        for (String c : singleSeen) {
            assertFalse(CaptionParser.parse(c).namesHeldOutPair(), c);
        }
        for (String c : singleHeldOut) {
            assertTrue(CaptionParser.parse(c).namesHeldOutPair(), c);
        }
        for (String c : relationSeen) {
            CaptionQuery q = CaptionParser.parse(c);
            assertTrue(q.relation().isPresent() && !q.namesHeldOutPair(), c);
        }
        for (String c : relationHeldOut) {
            CaptionQuery q = CaptionParser.parse(c);
            assertTrue(q.relation().isPresent() && q.namesHeldOutPair(), c);
        }
        assertEquals(100, new HashSet<>(relationHeldOut).size());
    }

    @Test
    void exampleNamesItsSource() {
        assertEquals("shapes:held_out:seed=5:12", ShapesDataset.heldOut(5, 64).example(12).source());
        assertEquals(10, ShapesDataset.train(5, 32).examples(100, 10).count());
        assertThrows(IllegalArgumentException.class, () -> ShapesDataset.train(5, 64).example(-1));
    }
}
