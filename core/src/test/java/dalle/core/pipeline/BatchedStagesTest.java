package dalle.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.ModelBundle;
import dalle.core.bundle.TestBundles;
import dalle.core.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoring in batches ({@link StageBatches}) gives every image the same score, to the bit, as scoring it alone
 * (one image per call, i.e. beside a copy of itself), whatever it is requested with: in batches of every size
 * across the kernel switches (1, 2, 3, 15, 16, 17, 31 images), at other positions, beside other images; on the
 * small random test bundle and on the shipped one ({@code models/tiny}), both of which must pass the rule's check
 * (run batched). Also: the batched scores are those of the reranker's own batch-of-two arithmetic.
 */
class BatchedStagesTest {

    @TempDir static Path root;

    /** 31 random grids and, per composition, the indices of the grids decoded together (in that order). */
    private static List<List<Integer>> compositions(SplittableRandom rng, int n) {
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        out.add(all);                                            // 31: chunks of 11, 10, 10
        List<Integer> reversed = new ArrayList<>(all);
        Collections.reverse(reversed);
        out.add(reversed);
        for (int size : new int[] {1, 2, 3, 15, 16, 17}) {
            List<Integer> shuffled = new ArrayList<>(all);
            Collections.shuffle(shuffled, new java.util.Random(rng.nextLong()));
            out.add(shuffled.subList(0, size));
        }
        return out;
    }

    /** The shipped bundle, from the core module's directory (where surefire runs). */
    private static final Path SHIPPED = Path.of("..", "models", "tiny");

    @Test
    void scoresDoNotDependOnTheBatch() throws Exception {
        assertScoresAreBatchIndependent(testBundle());
        assertScoresAreBatchIndependent(SHIPPED);
    }

    private static void assertScoresAreBatchIndependent(Path dir) {
        try (ModelBundle bundle = ModelBundle.load(dir)) {
            Pipeline pipeline = new Pipeline(bundle);
            int[] text = pipeline.tokenize("a red circle");
            SplittableRandom rng = new SplittableRandom(12);
            int cells = bundle.dvae().config().gridSize() * bundle.dvae().config().gridSize();
            List<int[]> grids = new ArrayList<>();
            for (int i = 0; i < 31; i++) {
                grids.add(rng.ints(cells, 0, bundle.dvae().config().codebookSize()).toArray());
            }
            List<RgbImage> images = pipeline.decode(grids, Pipeline.Progress.NONE);
            assertTrue(pipeline.scoreBatched(text), dir + ": the reranker's check failed on this libtorch: every image is"
                    + " now scored beside a copy of itself (correct, but slower, and not the batched path this test is about)");
            float[] alone = new float[images.size()];
            for (int i = 0; i < alone.length; i++) {
                alone[i] = pipeline.score(text, List.of(images.get(i)), Pipeline.Progress.NONE)[0];
            }
            // "alone" is the image beside a copy of itself, straight through the reranker
            try (ai.djl.ndarray.NDManager m = bundle.manager().newSubManager()) {
                int[] clipText = pipeline.clipText(text);
                for (int i : new int[] {0, 17, 30}) {
                    RgbImage q = images.get(i).quantized8();
                    float pair = bundle.clip().score(clipText, RgbImage.stack(m, List.of(q, q)))[0];
                    assertEquals(Float.floatToRawIntBits(pair), Float.floatToRawIntBits(alone[i]),
                            dir + ": image " + i + " alone vs beside a copy of itself");
                }
            }
            for (List<Integer> composition : compositions(rng, images.size())) {
                float[] got = pipeline.score(text, composition.stream().map(images::get).toList(), Pipeline.Progress.NONE);
                for (int j = 0; j < composition.size(); j++) {
                    int i = composition.get(j);
                    assertEquals(Float.floatToRawIntBits(alone[i]), Float.floatToRawIntBits(got[j]),
                            dir + ": image " + i + " at position " + j + " of " + composition.size());
                }
            }
        }
    }

    @Test
    void decodingOnSeveralThreadsGivesTheImagesOfOneThreadInOrder() {
        try (ModelBundle bundle = ModelBundle.load(SHIPPED)) {
            Pipeline pipeline = new Pipeline(bundle);
            SplittableRandom rng = new SplittableRandom(5);
            int cells = bundle.dvae().config().gridSize() * bundle.dvae().config().gridSize();
            List<int[]> grids = new ArrayList<>();
            for (int i = 0; i < 13; i++) {
                grids.add(rng.ints(cells, 0, bundle.dvae().config().codebookSize()).toArray());
            }
            List<Integer> reported = Collections.synchronizedList(new ArrayList<>());
            List<RgbImage> one = pipeline.decode(grids, Pipeline.Progress.NONE, 1);
            List<RgbImage> three = pipeline.decode(grids, (stage, done, total) -> reported.add(done), 3);
            assertEquals(grids.size(), three.size());
            for (int i = 0; i < grids.size(); i++) {
                assertTrue(java.util.Arrays.equals(one.get(i).chw(), three.get(i).chw()), "image " + i);
            }
            assertEquals(grids.size(), reported.size(), "one progress report per image");
            assertTrue(reported.contains(grids.size()), "the last report says all are done: " + reported);
            int[] bad = new int[cells - 1];
            List<int[]> withBad = new ArrayList<>(grids);
            withBad.set(7, bad);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> pipeline.decode(withBad, Pipeline.Progress.NONE, 3));
            assertTrue(e.getMessage().contains("candidate 7 has " + (cells - 1) + " tokens"), e.getMessage());
        }
    }

    @Test
    void withoutTheCheckEveryImageRunsBesideACopyOfItselfAndWithItInChunksOfTwoOrMore() {
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < 33; i++) {
            items.add(i);
        }
        for (boolean batched : new boolean[] {false, true}) {
            List<List<Integer>> passes = new ArrayList<>();
            List<Integer> out = StageBatches.run(items, batched, chunk -> {
                passes.add(List.copyOf(chunk));
                return chunk.stream().map(i -> i * 10).toList();
            }, done -> { });
            assertEquals(items.stream().map(i -> i * 10).toList(), out, "results in input order");
            for (List<Integer> pass : passes) {
                assertTrue(pass.size() >= 2 && pass.size() <= StageBatches.MAX, "a pass of " + pass.size());
                if (!batched) {
                    assertEquals(2, pass.size());
                    assertEquals(pass.get(0), pass.get(1), "beside a copy of itself");
                }
            }
            assertEquals(batched ? 3 : 33, passes.size());
        }
        List<List<Integer>> lone = new ArrayList<>();
        StageBatches.run(List.of(7), true, chunk -> {
            lone.add(List.copyOf(chunk));
            return chunk;
        }, done -> { });
        assertEquals(List.of(List.of(7, 7)), lone, "a lone image runs beside a copy of itself");
    }

    @Test
    void chunksHoldTwoToFifteenImagesOfNearEqualSize() {
        for (int n = 2; n <= 100; n++) {
            List<int[]> chunks = StageBatches.chunks(n);
            int covered = 0;
            for (int[] c : chunks) {
                assertEquals(covered, c[0]);
                int size = c[1] - c[0];
                assertTrue(size >= 2 && size <= StageBatches.MAX, n + " images: a chunk of " + size);
                covered = c[1];
            }
            assertEquals(n, covered);
            assertEquals((n + StageBatches.MAX - 1) / StageBatches.MAX, chunks.size());
        }
        assertEquals(1, StageBatches.chunks(1).size());
    }

    private static Path testBundle() {
        Path dir = root.resolve("bundle");
        if (!Files.exists(dir.resolve("bundle.json"))) {
            try {
                TestBundles.write(dir, 64);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return dir;
    }
}
