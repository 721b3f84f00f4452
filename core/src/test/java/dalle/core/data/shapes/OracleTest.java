package dalle.core.data.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.image.RgbImage;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OracleTest {

    private static final int IMAGES = 1000;
    private static final double SIGMA = 0.05;
    private final Oracle oracle = new Oracle();

    /** Item {@code k} of a mix alternating train and held-out items, so every pair is exercised. */
    private static ShapesDataset data(int k, int resolution) {
        return k % 2 == 0 ? ShapesDataset.train(7, resolution) : ShapesDataset.heldOut(7, resolution);
    }

    private static RgbImage image(int k, int resolution, double sigma, SplittableRandom noise) {
        RgbImage clean = SceneRenderer.render(data(k, resolution).scene(k / 2), resolution);
        return sigma > 0 ? Degrade.blurAndNoise(clean, sigma, noise) : clean;
    }

    /** Fraction of {@code n} items whose image matches its own caption (printed with a few misses). */
    private double agreement(int resolution, int n, double sigma) {
        SplittableRandom noise = new SplittableRandom(99);
        int agree = 0;
        List<String> misses = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            Caption caption = data(k, resolution).caption(k / 2);
            Verdict v = oracle.judge(image(k, resolution, sigma, noise), caption.text());
            if (v.matches()) {
                agree++;
            } else if (misses.size() < 3) {
                misses.add(caption.text() + " -> " + v.reason());
            }
        }
        double rate = agree / (double) n;
        System.out.printf(Locale.ROOT, "oracle agreement %dx%d%s: %.4f (%d/%d)%n", resolution, resolution,
                sigma > 0 ? ", 3x3 blur + noise sigma " + sigma : ", clean", rate, agree, n);
        misses.forEach(m -> System.out.println("  miss: " + m));
        return rate;
    }

    @Test
    void agreesWithTrueCaptionsOnCleanImages() {
        assertTrue(agreement(64, IMAGES, 0) >= 0.99);
    }

    @Test
    void agreesWithTrueCaptionsUnderBlurAndNoise() {
        assertTrue(agreement(64, IMAGES, SIGMA) >= 0.95);
    }

    @Test
    void agreesWithTrueCaptionsAt32And128Pixels() {
        assertTrue(agreement(32, IMAGES / 2, 0) >= 0.95);
        assertTrue(agreement(32, IMAGES / 2, SIGMA) >= 0.90);
        assertTrue(agreement(128, IMAGES / 4, 0) >= 0.99);
        assertTrue(agreement(128, IMAGES / 4, SIGMA) >= 0.95);
    }

    private enum Change { COLOUR, SHAPE, SIZE, RELATION }

    /** The caption's query with one attribute changed, or empty when the caption does not state it. */
    private static Optional<CaptionQuery> change(CaptionQuery q, Change change, SplittableRandom rng) {
        List<ObjectQuery> objects = new ArrayList<>(q.objects());
        int k = rng.nextInt(objects.size());
        ObjectQuery o = objects.get(k);
        switch (change) {
            case COLOUR -> objects.set(k, o.withColour(other(Colour.values(), o.colour(), rng)));
            case SHAPE -> objects.set(k, o.withShape(other(ShapeKind.values(), o.shape(), rng)));
            case SIZE -> {
                if (o.size().isEmpty()) {
                    return Optional.empty();
                }
                Size flipped = o.size().get() == Size.SMALL ? Size.LARGE : Size.SMALL;
                objects.set(k, new ObjectQuery(o.colour(), o.shape(), Optional.of(flipped)));
            }
            case RELATION -> {
                if (q.relation().isEmpty()) {
                    return Optional.empty();
                }
                return Optional.of(new CaptionQuery(objects,
                        Optional.of(other(Relation.values(), q.relation().get(), rng))));
            }
        }
        return Optional.of(new CaptionQuery(objects, q.relation()));
    }

    private static <T> T other(T[] values, T not, SplittableRandom rng) {
        T t;
        do {
            t = values[rng.nextInt(values.length)];
        } while (t.equals(not));
        return t;
    }

    private void rejectsChangedCaptions(double sigma) {
        SplittableRandom rng = new SplittableRandom(5);
        SplittableRandom noise = new SplittableRandom(6);
        Map<Change, int[]> tally = new EnumMap<>(Change.class); // {rejected, tried}
        List<String> misses = new ArrayList<>();
        for (int k = 0; k < IMAGES; k++) {
            Caption truth = data(k, 64).caption(k / 2);
            RgbImage image = image(k, 64, sigma, noise);
            for (Change c : Change.values()) {
                Optional<CaptionQuery> wrong = change(truth.query(), c, rng);
                if (wrong.isEmpty()) {
                    continue;
                }
                String text = truth.phrasing().write(wrong.get());
                Verdict v = oracle.judge(image, text);
                int[] t = tally.computeIfAbsent(c, x -> new int[2]);
                t[1]++;
                if (!v.matches()) {
                    t[0]++;
                } else if (misses.size() < 3) {
                    misses.add(text + " (truth: " + truth.text() + ") -> " + v.reason());
                }
            }
        }
        int rejected = 0;
        int tried = 0;
        for (Map.Entry<Change, int[]> e : tally.entrySet()) {
            rejected += e.getValue()[0];
            tried += e.getValue()[1];
            System.out.printf(Locale.ROOT, "  %s changed: rejected %d/%d%n", e.getKey(), e.getValue()[0],
                    e.getValue()[1]);
        }
        double rate = rejected / (double) tried;
        System.out.printf(Locale.ROOT, "oracle rejects wrong captions at 64x64%s: %.4f (%d/%d)%n",
                sigma > 0 ? ", 3x3 blur + noise sigma " + sigma : ", clean", rate, rejected, tried);
        misses.forEach(m -> System.out.println("  accepted: " + m));
        assertEquals(Change.values().length, tally.size(), "every kind of change was tried");
        assertTrue(rate >= 0.99, "rejection rate " + rate);
    }

    @Test
    void rejectsCaptionsWithAChangedColourShapeSizeOrRelation() {
        rejectsChangedCaptions(0);
    }

    @Test
    void rejectsChangedCaptionsUnderBlurAndNoise() {
        rejectsChangedCaptions(SIGMA);
    }

    @Test
    void rejectsAnImageWithMoreObjectsThanTheCaptionNames() {
        Scene two = new Scene(List.of(
                new ShapeObject(Colour.RED, ShapeKind.CIRCLE, Size.SMALL, 0.25, 0.5, 0.12),
                new ShapeObject(Colour.BLUE, ShapeKind.SQUARE, Size.LARGE, 0.7, 0.5, 0.2)));
        RgbImage image = SceneRenderer.render(two, 64);

        Verdict one = oracle.judge(image, "a red circle");
        Verdict both = oracle.judge(image, "a small red circle to the left of a large blue square");

        assertFalse(one.matches());
        assertTrue(one.reason().contains("caption names 1 object(s)"), one.reason());
        assertTrue(both.matches(), both.reason());
        assertEquals(2, both.seen().size());
    }

    @Test
    void verdictSaysWhatItSaw() {
        RgbImage blank = new RgbImage(64, 64, new float[3 * 64 * 64]);
        Scene star = new Scene(List.of(new ShapeObject(Colour.YELLOW, ShapeKind.STAR, Size.LARGE, 0.5, 0.5, 0.2)));

        Verdict nothing = oracle.judge(blank, "a red circle");
        Verdict wrongColour = oracle.judge(SceneRenderer.render(star, 64), "a green star");

        assertFalse(nothing.matches());
        assertTrue(nothing.reason().contains("saw nothing"), nothing.reason());
        assertFalse(wrongColour.matches());
        assertTrue(wrongColour.reason().contains("large yellow star"), wrongColour.reason());
    }

    @Test
    void doesNotCallAnUnrecognisableBlobAShape() {
        // A 24x8 bar: no shape of the data set is elongated.
        float[] chw = new float[3 * 64 * 64];
        for (int y = 28; y < 36; y++) {
            for (int x = 20; x < 44; x++) {
                chw[y * 64 + x] = 0.95f;
                chw[64 * 64 + y * 64 + x] = 0.1f;
                chw[2 * 64 * 64 + y * 64 + x] = 0.1f;
            }
        }
        Verdict v = oracle.judge(new RgbImage(64, 64, chw), "a red square");

        assertFalse(v.matches(), v.reason());
        assertFalse(v.seen().get(0).shapeClear(), v.reason());
    }

    @Test
    void unknownCaptionsAreRejectedByName() {
        RgbImage blank = new RgbImage(64, 64, new float[3 * 64 * 64]);
        UnknownCaptionException e = assertThrows(UnknownCaptionException.class,
                () -> oracle.matches(blank, "a photo of a dog"));
        assertTrue(e.getMessage().contains("a photo of a dog"), e.getMessage());
    }
}
