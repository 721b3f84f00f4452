package dalle.core.transformer;

import static dalle.core.transformer.DallePriorTest.randomImage;
import static dalle.core.transformer.DallePriorTest.randomText;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The optimised decoder against the reference incremental path: the same logits to the bit, at
 * every position, for several batch sizes (libtorch's matmul kernels change with the row count, so
 * each size is its own case), the same stream fed to both.
 */
class FastDecoderTest {

    @Test
    void logitsAreBitIdenticalToTheKvCachePathAtEveryPositionOfASmallModel() {
        for (int batch : new int[] {1, 2, 7}) {
            assertSameLogitsAsKvCache(DallePriorTest.SMALL, 31, batch);
        }
    }

    @Test
    void logitsAreBitIdenticalToTheKvCachePathAtEveryPositionOfTheTinyPreset() {
        for (int batch : new int[] {1, 5}) {
            assertSameLogitsAsKvCache(PriorConfig.tiny(300, 0), 7, batch);
        }
    }

    @Test
    void aDecoderRefusesPositionsPastTheStreamAndASecondPrefill() {
        PriorConfig c = DallePriorTest.SMALL;
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, c, 3);
            try (FastDecoder decoder = prior.newDecoder(manager)) {
                assertThrows(IllegalStateException.class, () -> decoder.step(manager.create(new int[2])));
                decoder.prefill(manager.create(randomText(new SplittableRandom(1), 2, c)));
                assertThrows(IllegalStateException.class,
                        () -> decoder.prefill(manager.create(randomText(new SplittableRandom(1), 2, c))));
                for (int k = 0; k + 1 < c.imageTokens(); k++) {
                    decoder.step(manager.create(new int[] {k % c.imageVocab(), 1}));
                }
                assertEquals(c.inputLength(), decoder.length());
                assertThrows(IllegalStateException.class, () -> decoder.step(manager.create(new int[2])));
            }
        }
    }

    private static void assertSameLogitsAsKvCache(PriorConfig c, long seed, int batch) {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, c, seed);
            SplittableRandom rng = new SplittableRandom(seed + batch);
            int[][] text = randomText(rng, batch, c);
            int[][] image = randomImage(rng, batch, c);
            try (KvCache cache = prior.newCache(manager); FastDecoder decoder = prior.newDecoder(manager)) {
                for (int k = 0; k < c.imageTokens(); k++) {
                    try (NDManager step = manager.newSubManager()) {
                        NDArray want;
                        NDArray got;
                        if (k == 0) {
                            want = prior.prefill(step.create(text), cache);
                            got = decoder.prefill(step.create(text));
                        } else {
                            int[] tokens = new int[batch];
                            for (int b = 0; b < batch; b++) {
                                tokens[b] = image[b][k - 1];
                            }
                            want = prior.step(step.create(tokens), cache);
                            got = decoder.step(step.create(tokens));
                        }
                        assertArrayEquals(bits(want.toFloatArray()), bits(got.toFloatArray()),
                                "batch " + batch + ", logits of image token " + k);
                    }
                }
                assertEquals(cache.length(), decoder.length());
            }
        }
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
