package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Module;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GumbelSoftmaxTest {

    @Test
    void klToUniformPriorIsZeroForUniformLogits() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray kl = GumbelSoftmax.klToUniform(manager.full(new Shape(2, 16, 3, 3), 0.7f));
            assertArrayEquals(new float[] {0f, 0f}, kl.toFloatArray(), 1e-5f);
        }
    }

    @Test
    void klToUniformPriorIsPositiveOtherwiseAndMatchesTheClosedForm() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // K = 2, q = (1/4, 3/4) at each of 2×1 positions: KL = 2 · (¼ ln ½ + ¾ ln 3/2)
            NDArray logits = manager.create(new float[] {0f, 0f, (float) Math.log(3), (float) Math.log(3)},
                    new Shape(1, 2, 2, 1));
            double expected = 2 * (0.25 * Math.log(0.5) + 0.75 * Math.log(1.5));
            assertEquals(expected, GumbelSoftmax.klToUniform(logits).getFloat(0), 1e-5);

            NDArray random = Module.normal(manager, new SplittableRandom(5), 2f, new Shape(3, 32, 4, 4));
            for (float kl : GumbelSoftmax.klToUniform(random).toFloatArray()) {
                assertTrue(kl > 0.1f, "KL " + kl);
            }
        }
    }

    @Test
    void codeUsageGapIsZeroWhenEveryCodeIsUsedEquallyAndLnKWhenOneCodeTakesEverything() {
        try (NDManager manager = NDManager.newBaseManager()) {
            int k = 8;
            // confident posteriors, but position p picks code p % K: over 2·4·4 positions each code is used 4 times
            float[] spread = new float[2 * k * 4 * 4];
            float[] collapsed = new float[spread.length];
            for (int b = 0; b < 2; b++) {
                for (int p = 0; p < 16; p++) {
                    for (int c = 0; c < k; c++) {
                        int i = (b * k + c) * 16 + p; // (B, K, G, G) with G·G = 16 positions
                        spread[i] = c == p % k ? 30f : 0f;
                        collapsed[i] = c == 3 ? 30f : 0f;
                    }
                }
            }
            Shape shape = new Shape(2, k, 4, 4);
            assertEquals(0.0, GumbelSoftmax.codeUsageGap(manager.create(spread, shape)).getFloat(), 1e-4);
            assertEquals(Math.log(k), GumbelSoftmax.codeUsageGap(manager.create(collapsed, shape)).getFloat(), 1e-4);
            // uniform posteriors everywhere also use every code equally on average
            assertEquals(0.0, GumbelSoftmax.codeUsageGap(manager.zeros(shape)).getFloat(), 1e-5);
        }
    }

    @Test
    void aPositiveUsageWeightAddsTheWeightedGapToTheTotalAndZeroLeavesThePapersObjective() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DvaeConfig config = new DvaeConfig(16, 2, 8, 8, 1, 4);
            Dvae dvae = new Dvae(manager, config, 3);
            NDArray images = manager.randomUniform(0f, 1f, new Shape(2, 3, 16, 16));
            DvaeLoss paper = dvae.loss(images, 1f, 2f, new SplittableRandom(9));
            DvaeLoss weighted = dvae.loss(images, 1f, 2f, 0.5f, new SplittableRandom(9));
            assertEquals(paper.total().getFloat(), dvae.loss(images, 1f, 2f, 0f, new SplittableRandom(9)).total().getFloat(), 0f);
            assertEquals(paper.total().getFloat() + 0.5f * weighted.usage().getFloat(), weighted.total().getFloat(), 1e-5f);
            assertTrue(weighted.usage().getFloat() > 0f);
            assertThrows(IllegalArgumentException.class, () -> dvae.loss(images, 1f, 2f, -1f, new SplittableRandom(9)));
        }
    }

    @Test
    void sampleAtTinyTemperatureIsNearlyOneHot() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = Module.normal(manager, new SplittableRandom(1), 1f, new Shape(4, 64, 8, 8));
            NDArray sample = GumbelSoftmax.sample(logits, 1e-4f, new SplittableRandom(2));
            assertEquals(logits.getShape(), sample.getShape());
            assertArrayEquals(onesLike(4 * 8 * 8), sample.sum(new int[] {1}).toFloatArray(), 1e-4f);
            float[] max = sample.max(new int[] {1}).toFloatArray();
            int nearlyOneHot = 0;
            for (float m : max) {
                nearlyOneHot += m > 0.99f ? 1 : 0;
            }
            assertTrue(nearlyOneHot >= max.length - 2, nearlyOneHot + " of " + max.length + " positions one-hot");
        }
    }

    @Test
    void hardSamplesFollowTheSoftmaxOfTheLogits() {
        // The Gumbel-max trick: argmax(logits + g) ~ softmax(logits), so the noise must be standard Gumbel.
        int n = 6000;
        float[] p = {0.2f, 0.3f, 0.5f};
        float[] v = new float[3 * n];
        for (int k = 0; k < 3; k++) {
            java.util.Arrays.fill(v, k * n, (k + 1) * n, (float) Math.log(p[k]));
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = manager.create(v, new Shape(1, 3, n, 1));
            NDArray hard = GumbelSoftmax.sample(logits, 1e-3f, new SplittableRandom(9)).argMax(1);
            long[] codes = hard.toLongArray();
            int[] counts = new int[3];
            for (long c : codes) {
                counts[(int) c]++;
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(p[k], counts[k] / (float) n, 0.025f, "frequency of code " + k);
            }
        }
    }

    @Test
    void sameSeedGivesTheSameSample() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = Module.normal(manager, new SplittableRandom(1), 1f, new Shape(2, 8, 2, 2));
            assertArrayEquals(GumbelSoftmax.sample(logits, 0.5f, new SplittableRandom(4)).toFloatArray(),
                    GumbelSoftmax.sample(logits, 0.5f, new SplittableRandom(4)).toFloatArray());
        }
    }

    @Test
    void refusesANonPositiveTemperature() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = manager.zeros(new Shape(1, 2, 1, 1));
            assertThrows(IllegalArgumentException.class, () -> GumbelSoftmax.sample(logits, 0f, new SplittableRandom(1)));
        }
    }

    private static float[] onesLike(int n) {
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        return ones;
    }
}
