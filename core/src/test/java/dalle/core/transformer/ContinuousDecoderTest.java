package dalle.core.transformer;

import static dalle.core.transformer.DallePriorTest.randomImage;
import static dalle.core.transformer.DallePriorTest.randomText;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The continuous decoder against {@link FastDecoder}: one cohort makes the same calls on the same shapes, so the
 * same logits to the bit. Cohorts that join and leave while others run get their own prefill to the bit, and step
 * logits within a few float ulps (of the largest logit) of the cohort decoded alone: the row-wise projections then
 * run over more rows, and libtorch's matmul rounds a row differently for a different row count, exactly as when
 * today's static batch holds other requests' rows (measured in the same test: a static batch with two more rows is
 * as far from alone). Codes are compared in {@code ContinuousBatchTest}.
 */
class ContinuousDecoderTest {

    @Test
    void oneCohortGivesTheFastDecodersLogitsToTheBitAtEveryPosition() {
        PriorConfig c = PriorConfig.tiny(300, 0);
        for (int batch : new int[] {1, 5}) {
            try (NDManager manager = NDManager.newBaseManager()) {
                DallePrior prior = new DallePrior(manager, c, 7);
                SplittableRandom rng = new SplittableRandom(batch);
                int[][] text = randomText(rng, batch, c);
                int[][] image = randomImage(rng, batch, c);
                try (FastDecoder alone = prior.newDecoder(manager);
                        ContinuousDecoder continuous = new ContinuousDecoder(prior, manager)) {
                    ContinuousDecoder.Cohort cohort = continuous.cohort();
                    for (int k = 0; k < c.imageTokens(); k++) {
                        try (NDManager step = manager.newSubManager()) {
                            NDArray want;
                            NDArray got;
                            if (k == 0) {
                                want = alone.prefill(step.create(text));
                                got = cohort.prefill(step.create(text));
                            } else {
                                NDArray tokens = step.create(column(image, k - 1, 0, batch));
                                want = alone.step(tokens.reshape(-1, 1));
                                got = continuous.step(tokens.reshape(-1, 1));
                            }
                            assertArrayEquals(bits(want.toFloatArray()), bits(got.toFloatArray()),
                                    "batch " + batch + ", logits of image token " + k);
                        }
                    }
                    assertEquals(c.inputLength(), cohort.length());
                    assertThrows(IllegalStateException.class,
                            () -> continuous.step(manager.create(new int[batch]).reshape(-1, 1)));
                }
            }
        }
    }

    /**
     * Three cohorts (3, 2 and 1 rows) join at image tokens 0, 4 and 9 of the first and leave at their own ends; every
     * logit of every cohort is compared with that cohort decoded alone by a {@link FastDecoder}.
     */
    @Test
    void cohortsJoiningAndLeavingGetTheirOwnPrefillToTheBitAndStepLogitsWithinAFewUlpsOfAlone() {
        PriorConfig c = DallePriorTest.SMALL;
        int[] sizes = {3, 2, 1};
        int[] joinAt = {0, 4, 9};                    // steps of the shared clock
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, c, 11);
            SplittableRandom rng = new SplittableRandom(5);
            int cohorts = sizes.length;
            int[][][] text = new int[cohorts][][];
            int[][][] image = new int[cohorts][][];
            float[][][] alone = new float[cohorts][][];  // [cohort][k] logits
            for (int i = 0; i < cohorts; i++) {
                text[i] = randomText(rng, sizes[i], c);
                image[i] = randomImage(rng, sizes[i], c);
                alone[i] = decodeAlone(prior, manager, text[i], image[i]);
            }
            float[][][] together = new float[cohorts][c.imageTokens()][];
            try (ContinuousDecoder continuous = new ContinuousDecoder(prior, manager)) {
                List<ContinuousDecoder.Cohort> live = new ArrayList<>();
                int[] k = new int[cohorts];          // next image token whose logits come
                List<Integer> order = new ArrayList<>();
                for (int clock = 0; clock < joinAt[cohorts - 1] + c.imageTokens(); clock++) {
                    try (NDManager step = manager.newSubManager()) {
                        // joiners are prefilled, then every cohort in the batch steps (as the batcher does)
                        for (int i = 0; i < cohorts; i++) {
                            if (joinAt[i] == clock) {
                                ContinuousDecoder.Cohort cohort = continuous.cohort();
                                together[i][0] = cohort.prefill(step.create(text[i])).toFloatArray();
                                k[i] = 1;
                                live.add(cohort);
                                order.add(i);
                            }
                        }
                        if (!order.isEmpty()) {
                            int rows = 0;
                            List<Integer> members = new ArrayList<>(order);
                            int[] tokens = new int[continuous.rows()];
                            for (int i : members) {
                                System.arraycopy(column(image[i], k[i] - 1, 0, sizes[i]), 0, tokens, rows, sizes[i]);
                                rows += sizes[i];
                            }
                            float[] logits = continuous.step(step.create(tokens).reshape(-1, 1)).toFloatArray();
                            int v = c.imageVocab();
                            rows = 0;
                            for (int i : members) {
                                together[i][k[i]] = Arrays.copyOfRange(logits, rows * v, (rows + sizes[i]) * v);
                                rows += sizes[i];
                                k[i]++;
                                if (k[i] == c.imageTokens()) {
                                    live.get(order.indexOf(i)).close();
                                    live.remove(order.indexOf(i));
                                    order.remove(Integer.valueOf(i));
                                }
                            }
                        }
                    }
                }
                assertEquals(0, continuous.rows(), "every cohort left");
            }
            // Cohort 0 decoded alone, and in a static batch with two more rows at its own positions (what today's
            // static batching does when other requests share the batch): how far each is from alone, in float ulps.
            int[][] text0 = concat(text[0], randomText(rng, 2, c));
            int[][] image0 = concat(image[0], randomImage(rng, 2, c));
            float[][] staticWithOthers = decodeAlone(prior, manager, text0, image0);
            int staticUlps = 0;
            int continuousUlps = 0;
            int v = c.imageVocab();
            for (int t = 0; t < c.imageTokens(); t++) {
                staticUlps = Math.max(staticUlps, ulps(alone[0][t], Arrays.copyOf(staticWithOthers[t], sizes[0] * v)));
            }
            for (int i = 0; i < cohorts; i++) {
                for (int t = 0; t < c.imageTokens(); t++) {
                    int u = ulps(alone[i][t], together[i][t]);
                    continuousUlps = Math.max(continuousUlps, u);
                    // the prefill of a cohort is its own: the same to the bit
                    if (t == 0) {
                        assertEquals(0, u, "cohort " + i + ": the prefill's logits");
                    }
                    assertTrue(u <= 16, "cohort " + i + " (" + sizes[i] + " rows, joined at " + joinAt[i]
                            + "), logits of image token " + t + " differ from the cohort alone by " + u + " ulps of the largest logit");
                }
            }
            System.out.println("ContinuousDecoderTest: most ulps (of the largest logit) from the cohort decoded alone: continuous "
                    + continuousUlps + ", static batch with 2 more rows " + staticUlps);
        }
    }

    /** The largest |a − b| over two arrays of the same length, in units of the largest |a|'s float ulp. */
    private static int ulps(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double most = 0;
        float scale = 0;
        for (int i = 0; i < a.length; i++) {
            most = Math.max(most, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return (int) Math.ceil(most / Math.ulp(scale));
    }

    private static int[][] concat(int[][] a, int[][] b) {
        int[][] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static float[][] decodeAlone(DallePrior prior, NDManager manager, int[][] text, int[][] image) {
        PriorConfig c = prior.config();
        float[][] out = new float[c.imageTokens()][];
        try (FastDecoder decoder = prior.newDecoder(manager)) {
            for (int k = 0; k < c.imageTokens(); k++) {
                try (NDManager step = manager.newSubManager()) {
                    out[k] = (k == 0 ? decoder.prefill(step.create(text))
                            : decoder.step(step.create(column(image, k - 1, 0, text.length)).reshape(-1, 1))).toFloatArray();
                }
            }
        }
        return out;
    }

    private static int[] column(int[][] image, int k, int from, int to) {
        int[] out = new int[to - from];
        for (int b = from; b < to; b++) {
            out[b - from] = image[b][k];
        }
        return out;
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
