package dalle.core.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import dalle.core.nn.AdamW;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContrastiveScorerTest {

    private static final int VOCAB = 16;
    private static final int PAD = 0;
    private static final ClipConfig TINY = ClipConfig.tiny(VOCAB, PAD);
    /** TINY with average pooling: translation-invariant, so it fits squares that move every step in a few updates. */
    private static final ClipConfig TINY_AVERAGED = new ClipConfig(VOCAB, TINY.textLength(), PAD, TINY.imageSize(),
            TINY.textWidth(), TINY.textLayers(), TINY.textHeads(), TINY.imageWidth(), TINY.embedDim(), false);
    private static final int S = TINY.imageSize();

    /** Eight colours (RGB in [0, 1]) and their fake caption ids: "a <colour> square". */
    private static final float[][] COLOURS = {
        {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}, {1, 0, 1}, {1, 1, 1}, {0, 0, 0},
    };
    private static final int A = 1;
    private static final int SQUARE = 2;
    private static final int FIRST_COLOUR = 3;

    @Test
    void encodersGiveUnitNormEmbeddingsOfShapeBatchByEmbedDim() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 7L);
            NDArray text = scorer.encodeText(captions(manager, 3));
            NDArray image = scorer.encodeImage(squares(manager, 3, 0));
            assertEquals(new Shape(3, TINY.embedDim()), text.getShape());
            assertEquals(new Shape(3, TINY.embedDim()), image.getShape());
            float[] norms = text.square().sum(new int[] {1}).concat(image.square().sum(new int[] {1})).toFloatArray();
            for (float n : norms) {
                assertEquals(1f, n, 1e-5f);
            }
            assertEquals(new Shape(), scorer.loss(captions(manager, 3), squares(manager, 3, 0)).getShape());
        }
    }

    @Test
    void padPositionsDoNotChangeTheTextEmbedding() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 11L);
            int[] caption = {5, 9, 4, 12};
            float[] unpadded = scorer.encodeText(ids(manager, caption, caption.length)).toFloatArray();
            float[] padded8 = scorer.encodeText(ids(manager, caption, 8)).toFloatArray();
            float[] paddedFull = scorer.encodeText(ids(manager, caption, TINY.textLength())).toFloatArray();
            // the same caption beside a longer one in a batch: its row is padded, the other is not
            int[] longer = new int[TINY.textLength()];
            Arrays.fill(longer, 6);
            NDArray batch = manager.create(concat(pad(caption, TINY.textLength()), longer), new Shape(2, TINY.textLength()));
            float[] inBatch = Arrays.copyOf(scorer.encodeText(batch).toFloatArray(), TINY.embedDim());
            assertArrayEquals(unpadded, padded8, 1e-5f);
            assertArrayEquals(unpadded, paddedFull, 1e-5f);
            assertArrayEquals(unpadded, inBatch, 1e-5f);
            // and the embedding does depend on the real tokens
            caption[3] = 13;
            float[] other = scorer.encodeText(ids(manager, caption, 8)).toFloatArray();
            assertTrue(maxAbsDiff(unpadded, other) > 1e-3f, "changing a real token changes the embedding");
        }
    }

    @Test
    void lossEqualsSymmetricInfoNceComputedInJava() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 3L);
            int b = 4;
            NDArray ids = captions(manager, b);
            NDArray images = squares(manager, b, 0);
            float[] t = scorer.encodeText(ids).toFloatArray();
            float[] im = scorer.encodeImage(images).toFloatArray();
            double scale = scorer.logitScale();
            assertEquals(1 / 0.07, scale, 1e-4);
            int e = TINY.embedDim();
            double[][] logits = new double[b][b];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < b; j++) {
                    double dot = 0;
                    for (int k = 0; k < e; k++) {
                        dot += (double) t[i * e + k] * im[j * e + k];
                    }
                    logits[i][j] = scale * dot;
                }
            }
            double rows = 0;
            double cols = 0;
            for (int i = 0; i < b; i++) {
                double rowMax = Double.NEGATIVE_INFINITY;
                double colMax = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < b; j++) {
                    rowMax = Math.max(rowMax, logits[i][j]);
                    colMax = Math.max(colMax, logits[j][i]);
                }
                double rowSum = 0;
                double colSum = 0;
                for (int j = 0; j < b; j++) {
                    rowSum += Math.exp(logits[i][j] - rowMax);
                    colSum += Math.exp(logits[j][i] - colMax);
                }
                rows += -(logits[i][i] - rowMax - Math.log(rowSum));
                cols += -(logits[i][i] - colMax - Math.log(colSum));
            }
            double expected = (rows / b + cols / b) / 2;
            float actual = scorer.loss(ids, images).getFloat();
            assertEquals(expected, actual, 1e-4 * Math.max(1, expected));
        }
    }

    @Test
    void overfittingEightCaptionedSquaresLowersTheLossAndRanksEachCaptionsImageFirst() {
        int n = COLOURS.length;
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY_AVERAGED, 2021L);
            scorer.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, scorer.parameters(), 0.9f, 0.98f, 1e-6f, 0.2f);
            float first = Float.NaN;
            float last = Float.NaN;
            int steps = 20;
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                try (NDManager step = manager.newSubManager();
                     GradientCollector gc = manager.getEngine().newGradientCollector()) {
                    // shift the squares each step, so the images are not one fixed input
                    NDArray loss = scorer.loss(captions(step, n), squares(step, n, i));
                    gc.backward(loss);
                    last = loss.getFloat();
                    if (i == 0) {
                        first = last;
                    }
                }
                opt.step(1e-3f);
            }
            double msPerStep = (System.nanoTime() - start) / 1e6 / steps;
            scorer.setRequiresGradient(false);

            int correct = 0;
            StringBuilder report = new StringBuilder();
            try (NDManager eval = manager.newSubManager()) {
                NDArray images = squares(eval, n, 1000);   // positions not seen in training
                for (int c = 0; c < n; c++) {
                    float[] scores = scorer.score(caption(c), images);
                    int best = argmax(scores);
                    correct += best == c ? 1 : 0;
                    report.append(String.format(" c%d->%d(%.1f vs next %.1f)", c, best, scores[best],
                            secondLargest(scores)));
                }
            }
            System.out.printf("clip overfit: loss %.4f -> %.4f in %d steps (%.0f ms/step, batch %d), "
                    + "rank-1 %d/%d, logit scale %.2f;%s%n", first, last, steps, msPerStep, n, correct, n,
                    scorer.logitScale(), report);
            assertEquals(Math.log(n), first, 0.5, "an untrained model is near chance");
            assertTrue(last < 0.1f * first, "loss " + first + " -> " + last);
            assertEquals(n, correct, "each caption ranks its own square first:" + report);
        }
    }

    @Test
    void logitScaleStartsAtOneOverPointZeroSevenAndIsCappedAtOneHundred() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 5L);
            assertEquals(1 / 0.07, scorer.logitScale(), 1e-4);
            scorer.parameters().get("logScale").set(manager.create(new float[] {(float) Math.log(1000)}, new Shape(1)));
            assertEquals(100f, scorer.logitScale(), 1e-3f);
            NDArray unit = manager.create(new float[] {0.6f, 0.8f}, new Shape(1, 2));
            assertEquals(100f, scorer.logits(unit, unit).getFloat(), 1e-3f);
        }
    }

    @Test
    void aTrainingStepLeavesNoArraysOnTheModelsManager() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 5L);
            scorer.setRequiresGradient(true);
            int before = manager.getManagedArrays().size();
            try (NDManager step = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                gc.backward(scorer.loss(captions(step, 2), squares(step, 2, 0)));
                scorer.score(caption(0), squares(step, 2, 1));
            }
            assertEquals(before, manager.getManagedArrays().size(),
                    "forward, backward and scoring put their intermediates on the inputs' manager only");
        }
    }

    @Test
    void saveThenLoadGivesIdenticalScores(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 5L);
            NDArray images = squares(manager, 4, 3);
            float[] before = scorer.score(caption(2), images);
            scorer.save(dir, SafeTensors.Storage.F32);
            ContrastiveScorer loaded = ContrastiveScorer.load(dir, manager);
            assertEquals(TINY, loaded.config());
            assertArrayEquals(before, loaded.score(caption(2), images), 0f);
            ContrastiveScorer fresh = new ContrastiveScorer(manager, TINY, 6L);
            assertTrue(maxAbsDiff(before, fresh.score(caption(2), images)) > 1e-3f,
                    "the weights, not the config, decide the scores");
        }
    }

    @Test
    void loadRefusesWeightsOfTheWrongShapeNamingTheFile(@TempDir Path root) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            Path narrow = root.resolve("narrow");
            Path model = root.resolve("model");
            ClipConfig narrowConfig = new ClipConfig(VOCAB, 32, PAD, 64, 128, 2, 4, 32, 64);
            new ContrastiveScorer(manager, narrowConfig, 1L).save(narrow, SafeTensors.Storage.F32);
            new ContrastiveScorer(manager, TINY, 1L).save(model, SafeTensors.Storage.F32);
            Files.copy(narrow.resolve(Checkpoints.WEIGHTS_FILE), model.resolve(Checkpoints.WEIGHTS_FILE),
                    StandardCopyOption.REPLACE_EXISTING);
            CheckpointException e = assertThrows(CheckpointException.class, () -> ContrastiveScorer.load(model, manager));
            assertTrue(e.getMessage().contains(model.resolve(Checkpoints.WEIGHTS_FILE).toString()), e.getMessage());
            assertTrue(e.getMessage().contains("text.projection.weight has shape (64, 128)"), e.getMessage());
        }
    }

    @Test
    void scoreRefusesACaptionOfOnlyPads() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, TINY, 5L);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> scorer.score(new int[TINY.textLength()], squares(manager, 1, 0)));
            assertTrue(e.getMessage().contains("pad id 0"), e.getMessage());
            IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
                    () -> scorer.score(new int[] {1, VOCAB}, squares(manager, 1, 0)));
            assertTrue(vocab.getMessage().contains("[0, " + VOCAB + ")"), vocab.getMessage());
        }
    }

    // ---- fixtures ----

    /** "a <colour c> square", padded to textLength. */
    private static int[] caption(int c) {
        return pad(new int[] {A, FIRST_COLOUR + c, SQUARE}, TINY.textLength());
    }

    /** (n, textLength) captions of the first n colours. */
    private static NDArray captions(NDManager manager, int n) {
        int[] all = new int[0];
        for (int c = 0; c < n; c++) {
            all = concat(all, caption(c));
        }
        return manager.create(all, new Shape(n, TINY.textLength()));
    }

    /**
     * (n, 3, S, S): image c is a 24-pixel square of colour c on mid grey, placed by a generator
     * seeded with {@code seed} and c.
     */
    private static NDArray squares(NDManager manager, int n, long seed) {
        int side = 24;
        float[] px = new float[n * 3 * S * S];
        Arrays.fill(px, 0.5f);
        for (int c = 0; c < n; c++) {
            SplittableRandom rng = new SplittableRandom(seed * 31 + c);
            int x0 = rng.nextInt(S - side);
            int y0 = rng.nextInt(S - side);
            for (int ch = 0; ch < 3; ch++) {
                for (int y = y0; y < y0 + side; y++) {
                    for (int x = x0; x < x0 + side; x++) {
                        px[((c * 3 + ch) * S + y) * S + x] = COLOURS[c][ch];
                    }
                }
            }
        }
        return manager.create(px, new Shape(n, 3, S, S));
    }

    private static NDArray ids(NDManager manager, int[] caption, int length) {
        return manager.create(pad(caption, length), new Shape(1, length)).toType(DataType.INT64, false);
    }

    private static int[] pad(int[] ids, int length) {
        int[] out = new int[length];
        Arrays.fill(out, PAD);
        System.arraycopy(ids, 0, out, 0, ids.length);
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    private static float secondLargest(float[] v) {
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length - 2];
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
