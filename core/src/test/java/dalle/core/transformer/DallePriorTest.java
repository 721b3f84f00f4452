package dalle.core.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import dalle.core.nn.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DallePriorTest {

    /** 6 text slots over 50 ids (pad 0), a 4×4 grid over 16 codes, width 32, 2 heads, layers ROW, COLUMN, CONV. */
    static final PriorConfig SMALL = new PriorConfig(50, 6, 0, 16, 4, 32, 2, 3, 3, 4);

    static int[][] randomText(SplittableRandom rng, int batch, PriorConfig c) {
        int[][] t = new int[batch][c.textLength()];
        for (int[] row : t) {
            int words = 1 + rng.nextInt(c.textLength());
            for (int p = 0; p < words; p++) {
                row[p] = 1 + rng.nextInt(c.textVocab() - 1);
            }
            // remaining slots stay 0 = pad
        }
        return t;
    }

    static int[][] randomImage(SplittableRandom rng, int batch, PriorConfig c) {
        int[][] im = new int[batch][c.imageTokens()];
        for (int[] row : im) {
            for (int k = 0; k < row.length; k++) {
                row[k] = rng.nextInt(c.imageVocab());
            }
        }
        return im;
    }

    @Test
    void logitsCoverTheInputAndTheJointVocabulary() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 3);
            SplittableRandom rng = new SplittableRandom(5);
            NDArray logits = prior.logits(manager.create(randomText(rng, 2, SMALL)), manager.create(randomImage(rng, 2, SMALL)));
            assertEquals(new Shape(2, 6 + 16 - 1, 50 + 6 + 16), logits.getShape());
            assertThrows(IllegalArgumentException.class,
                    () -> prior.logits(manager.create(new int[2][5]), manager.create(new int[2][16])));
        }
    }

    @Test
    void textTargetsMapThePadInSlotPToTextVocabPlusP() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 3);
            int[] targets = prior.textTargets(manager.create(new int[][] {{7, 9, 0, 0, 0, 0}})).toIntArray();
            assertArrayEquals(new int[] {7, 9, 52, 53, 54, 55}, targets);
        }
    }

    @Test
    void aPadSlotIsEmbeddedByThePaddingEmbeddingOfItsPosition() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 3);
            SplittableRandom rng = new SplittableRandom(6);
            NDArray text = manager.create(new int[][] {{7, 9, 0, 0, 0, 0}});
            NDArray image = manager.create(randomImage(rng, 1, SMALL));
            int n = SMALL.inputLength();
            float[] before = prior.logits(text, image).toFloatArray();
            // the token embedding of the pad id is never read
            prior.parameters().get("text_embedding.weight").array().set(new NDIndex("0"), 3f);
            assertArrayEquals(before, prior.logits(text, image).toFloatArray(), 0f);
            // the padding embedding of slot 1 is unused: slot 1 holds a word
            prior.parameters().get("text_padding.weight").array().set(new NDIndex("1"), 3f);
            assertArrayEquals(before, prior.logits(text, image).toFloatArray(), 0f);
            // the padding embedding of slot 4 is read by slot 4 and, through attention, by every later position
            prior.parameters().get("text_padding.weight").array().set(new NDIndex("4"), 3f);
            float[] after = prior.logits(text, image).toFloatArray();
            int v = SMALL.vocabSize();
            for (int p = 0; p < n; p++) {
                boolean changed = !java.util.Arrays.equals(
                        java.util.Arrays.copyOfRange(before, p * v, (p + 1) * v),
                        java.util.Arrays.copyOfRange(after, p * v, (p + 1) * v));
                assertEquals(p >= 4, changed, "position " + p);
            }
        }
    }

    @Test
    void totalLossIsOneEighthTextPlusSevenEighthsImage() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 3);
            SplittableRandom rng = new SplittableRandom(8);
            NDArray text = manager.create(randomText(rng, 3, SMALL));
            NDArray image = manager.create(randomImage(rng, 3, SMALL));
            PriorLoss loss = prior.loss(text, image);
            float t = loss.text().getFloat();
            float i = loss.image().getFloat();
            assertEquals(t / 8 + 7 * i / 8, loss.total().getFloat(), 1e-5f);
            // an untrained model is close to uniform over each part of the vocabulary
            assertEquals(Math.log(50 + 6), t, 0.5);
            assertEquals(Math.log(16), i, 0.5);
        }
    }

    @Test
    void partLossesAreCrossEntropiesOverTheirOwnPartOfTheLogits() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 4);
            SplittableRandom rng = new SplittableRandom(9);
            int[][] text = randomText(rng, 2, SMALL);
            int[][] image = randomImage(rng, 2, SMALL);
            PriorLoss loss = prior.loss(manager.create(text), manager.create(image));
            float[] logits = prior.logits(manager.create(text), manager.create(image)).toFloatArray();
            int n = SMALL.inputLength();
            int v = SMALL.vocabSize();
            double textSum = 0;
            double imageSum = 0;
            for (int b = 0; b < 2; b++) {
                for (int p = 0; p < n; p++) {
                    int base = (b * n + p) * v;
                    if (p < SMALL.textLength() - 1) {
                        int slot = p + 1;
                        int target = text[b][slot] == 0 ? SMALL.textVocab() + slot : text[b][slot];
                        textSum += -logSoftmax(logits, base, 0, SMALL.imageLogitOffset(), target);
                    } else {
                        int k = p - (SMALL.textLength() - 1);
                        imageSum += -logSoftmax(logits, base, SMALL.imageLogitOffset(), v, SMALL.imageLogitOffset() + image[b][k]);
                    }
                }
            }
            assertEquals(textSum / (2 * (SMALL.textLength() - 1)), loss.text().getFloat(), 1e-4);
            assertEquals(imageSum / (2 * SMALL.imageTokens()), loss.image().getFloat(), 1e-4);
        }
    }

    private static double logSoftmax(float[] logits, int base, int from, int to, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = from; j < to; j++) {
            max = Math.max(max, logits[base + j]);
        }
        double sum = 0;
        for (int j = from; j < to; j++) {
            sum += Math.exp(logits[base + j] - max);
        }
        return logits[base + target] - max - Math.log(sum);
    }

    @Test
    void lossFallsWhenOverfittingOneSmallBatch() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 11);
            SplittableRandom rng = new SplittableRandom(12);
            NDArray text = manager.create(randomText(rng, 4, SMALL));
            NDArray image = manager.create(randomImage(rng, 4, SMALL));
            prior.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 0f);
            float[] first = null;
            float[] last = null;
            for (int i = 0; i < 60; i++) {
                try (NDManager step = manager.newSubManager();
                     GradientCollector gc = manager.getEngine().newGradientCollector()) {
                    PriorLoss loss = prior.loss(text, image);
                    gc.backward(loss.total());
                    last = new float[] {loss.total().getFloat(), loss.text().getFloat(), loss.image().getFloat()};
                    if (first == null) {
                        first = last;
                    }
                    loss.total().attach(step);
                    loss.text().attach(step);
                    loss.image().attach(step);
                }
                opt.step(3e-3f);
            }
            System.out.printf("overfit: total %.3f -> %.3f, text %.3f -> %.3f, image %.3f -> %.3f%n",
                    first[0], last[0], first[1], last[1], first[2], last[2]);
            assertTrue(last[0] < 0.3f * first[0], "total " + first[0] + " -> " + last[0]);
            assertTrue(last[1] < first[1] && last[2] < first[2], "both parts fall");
        }
    }

    @Test
    void saveThenLoadGivesIdenticalLogits(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 21);
            SplittableRandom rng = new SplittableRandom(22);
            NDArray text = manager.create(randomText(rng, 2, SMALL));
            NDArray image = manager.create(randomImage(rng, 2, SMALL));
            prior.save(dir, SafeTensors.Storage.F32);
            DallePrior loaded = DallePrior.load(dir, manager);
            assertEquals(SMALL, loaded.config());
            assertArrayEquals(prior.logits(text, image).toFloatArray(), loaded.logits(text, image).toFloatArray(), 0f);
        }
    }

    @Test
    void checkpointOfAnotherShapeIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            new DallePrior(manager, SMALL, 21).save(dir, SafeTensors.Storage.F32);
            // the config now claims width 64, the weights are width 32
            PriorConfig wider = new PriorConfig(50, 6, 0, 16, 4, 64, 2, 3, 3, 4);
            String json = Files.readString(dir.resolve(Checkpoints.CONFIG_FILE));
            Files.writeString(dir.resolve(Checkpoints.CONFIG_FILE),
                    json.replace("\"width\": 32", "\"width\": " + wider.width()));
            CheckpointException e = assertThrows(CheckpointException.class, () -> DallePrior.load(dir, manager));
            assertTrue(e.getMessage().contains(dir.resolve(Checkpoints.WEIGHTS_FILE).toString()), e.getMessage());
            assertTrue(e.getMessage().contains("shape"), e.getMessage());
        }
    }

    @Test
    void cachedDecodingReproducesTheFullForwardLogits() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, SMALL, 31);
            SplittableRandom rng = new SplittableRandom(32);
            int[][] text = randomText(rng, 3, SMALL);
            int[][] image = randomImage(rng, 3, SMALL);
            int n = SMALL.inputLength();
            int v = SMALL.vocabSize();
            int iv = SMALL.imageVocab();
            float[] full = prior.logits(manager.create(text), manager.create(image)).toFloatArray();
            try (KvCache cache = prior.newCache(manager)) {
                float[] step = prior.prefill(manager.create(text), cache).toFloatArray();
                for (int k = 0; k < SMALL.imageTokens(); k++) {
                    int position = SMALL.textLength() - 1 + k; // this input position predicts image token k
                    for (int b = 0; b < 3; b++) {
                        for (int j = 0; j < iv; j++) {
                            float want = full[(b * n + position) * v + SMALL.imageLogitOffset() + j];
                            assertEquals(want, step[b * iv + j], 1e-4f, "token " + k + " row " + b + " code " + j);
                        }
                    }
                    if (k + 1 < SMALL.imageTokens()) {
                        int[] tokens = {image[0][k], image[1][k], image[2][k]};
                        step = prior.step(manager.create(tokens), cache).toFloatArray();
                    }
                }
                assertEquals(n, cache.length());
                assertThrows(IllegalStateException.class, () -> prior.step(manager.create(new int[3]), cache));
            }
        }
    }

    @Test
    void lastLayerConvMaskLimitsWhatASingleLayerModelSees() {
        // One layer is the CONV layer: image token 10 (row 2, col 2) must ignore input cells outside its 3x3 causal window
        PriorConfig one = new PriorConfig(50, 6, 0, 16, 4, 32, 2, 1, 3, 4);
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, one, 41);
            SplittableRandom rng = new SplittableRandom(42);
            int[][] text = randomText(rng, 1, one);
            int[][] image = randomImage(rng, 1, one);
            int position = one.textLength() + 10; // holds image token 10, predicts 11
            float[] base = row(prior.logits(manager.create(text), manager.create(image)).toFloatArray(), position, one);
            for (int cell = 0; cell < one.imageTokens() - 1; cell++) {
                int[][] changed = {image[0].clone()};
                changed[0][cell] = (changed[0][cell] + 1) % one.imageVocab();
                float[] out = row(prior.logits(manager.create(text), manager.create(changed)).toFloatArray(), position, one);
                int r = cell / 4;
                int c = cell % 4;
                boolean inWindow = r >= 1 && r <= 2 && Math.abs(c - 2) <= 1 && (r < 2 || c <= 2);
                boolean differs = !java.util.Arrays.equals(base, out);
                assertEquals(inWindow, differs, "cell " + cell);
            }
        }
    }

    private static float[] row(float[] logits, int position, PriorConfig c) {
        int v = c.vocabSize();
        return java.util.Arrays.copyOfRange(logits, position * v, (position + 1) * v);
    }
}
