package dalle.training.cluster.powersgd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PowerSgdTest {

    private static final List<TensorSpec> MIXED = List.of(
            new TensorSpec("a.weight", Parameter.Kind.WEIGHT, new Shape(5, 7)),
            new TensorSpec("a.bias", Parameter.Kind.BIAS, new Shape(5)),
            new TensorSpec("b.weight", Parameter.Kind.WEIGHT, new Shape(9, 3)),
            new TensorSpec("conv.weight", Parameter.Kind.WEIGHT, new Shape(4, 2, 3, 3)),
            new TensorSpec("emb.weight", Parameter.Kind.EMBEDDING, new Shape(6, 4)));

    private static List<float[]> randomGradients(List<TensorSpec> specs, SplittableRandom rng) {
        List<float[]> out = new ArrayList<>();
        for (TensorSpec s : specs) {
            float[] g = new float[s.size()];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) Module.gaussian(rng);
            }
            out.add(g);
        }
        return out;
    }

    private static List<List<float[]>> copies(List<List<float[]>> grads) {
        List<List<float[]>> out = new ArrayList<>();
        for (List<float[]> worker : grads) {
            out.add(worker.stream().map(float[]::clone).toList());
        }
        return out;
    }

    private static float[] mean(List<List<float[]>> grads, int tensor) {
        float[] out = new float[grads.get(0).get(tensor).length];
        for (int i = 0; i < out.length; i++) {
            double s = 0;
            for (List<float[]> w : grads) {
                s += w.get(tensor)[i];
            }
            out[i] = (float) (s / grads.size());
        }
        return out;
    }

    @Test
    void atFullRankPowerSgdEqualsExactAveragingAtEveryStep() {
        int workers = 3;
        for (PowerSgdConfig.QStart start : PowerSgdConfig.QStart.values()) {
            PowerSgdConfig config = PowerSgdConfig.paper(16, 11).withOnlyWhenSaving(false).withQ(start);
            List<PowerSgd> ex = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                ex.add(new PowerSgd(config, MIXED));
            }
            assertEquals(3, ex.get(0).plan().compressedCount());
            SplittableRandom rng = new SplittableRandom(5);
            try (LocalMeanReducers group = new LocalMeanReducers(workers)) {
                for (int step = 0; step < 3; step++) {
                    List<List<float[]>> grads = new ArrayList<>();
                    for (int w = 0; w < workers; w++) {
                        grads.add(randomGradients(MIXED, rng));
                    }
                    List<List<float[]>> before = copies(grads);
                    List<ExchangeStats> stats = group.exchange(ex, grads);
                    assertTrue(stats.get(0).finite());
                    for (int t = 0; t < MIXED.size(); t++) {
                        float[] exact = mean(before, t);
                        for (int w = 0; w < workers; w++) {
                            assertArrayEquals(exact, grads.get(w).get(t), 2e-5f,
                                    start + " step " + step + " worker " + w + " tensor " + MIXED.get(t).name());
                        }
                    }
                }
            }
        }
    }

    @Test
    void errorFeedbackCarriesExactlyWhatWasNotSent() {
        // Given one worker, a 3×3 gradient and rank 1: the update sends p̂ p̂ᵀ M with p̂ = M q / |M q|
        TensorSpec spec = new TensorSpec("w", Parameter.Kind.WEIGHT, new Shape(3, 3));
        PowerSgd psgd = new PowerSgd(PowerSgdConfig.paper(1, 3), List.of(spec));
        float[] q = psgd.q("w");
        float[] g = {3, 0, 0, 0, 1, 0, 0, 0, 2};
        float[] sent = g.clone();
        psgd.exchange(List.of(sent), data -> { });

        // Then the sent gradient is the projection worked out by hand, and the residual the rest
        double[] p = {3 * q[0], 1 * q[1], 2 * q[2]};                    // M q for diagonal M
        double norm = Math.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        double[] diag = {3, 1, 2};
        float[] expectSent = new float[9];
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 3; k++) {
                expectSent[i * 3 + k] = (float) (p[i] / norm * p[k] / norm * diag[k]); // p̂_i (Mᵀ p̂)_k
            }
        }
        assertArrayEquals(expectSent, sent, 1e-5f);
        float[] residual = psgd.errorBuffer("w");
        for (int i = 0; i < 9; i++) {
            assertEquals(g[i] - expectSent[i], residual[i], 1e-5f, "residual " + i);
        }

        // And a zero gradient next step sends part of the residual and keeps the rest: nothing is lost
        float[] next = new float[9];
        psgd.exchange(List.of(next), data -> { });
        float[] residual2 = psgd.errorBuffer("w");
        for (int i = 0; i < 9; i++) {
            assertEquals(residual[i], next[i] + residual2[i], 1e-5f);
        }
        assertTrue(Math.abs(next[0]) + Math.abs(next[4]) + Math.abs(next[8]) > 0.1, "some residual was sent");
    }

    @Test
    void overManyStepsSentPlusMeanResidualEqualsTheSumOfMeanGradients() {
        int workers = 2;
        List<TensorSpec> specs = List.of(new TensorSpec("w", Parameter.Kind.WEIGHT, new Shape(6, 5)));
        List<PowerSgd> ex = List.of(new PowerSgd(PowerSgdConfig.paper(1, 9), specs),
                new PowerSgd(PowerSgdConfig.paper(1, 9), specs));
        SplittableRandom rng = new SplittableRandom(2);
        double[] sumSent = new double[30];
        double[] sumMean = new double[30];
        try (LocalMeanReducers group = new LocalMeanReducers(workers)) {
            for (int step = 0; step < 6; step++) {
                List<List<float[]>> grads = List.of(randomGradients(specs, rng), randomGradients(specs, rng));
                float[] exact = mean(grads, 0);
                group.exchange(ex, grads);
                for (int i = 0; i < 30; i++) {
                    sumSent[i] += grads.get(0).get(0)[i];
                    sumMean[i] += exact[i];
                }
            }
        }
        float[] e0 = ex.get(0).errorBuffer("w");
        float[] e1 = ex.get(1).errorBuffer("w");
        for (int i = 0; i < 30; i++) {
            assertEquals(sumMean[i], sumSent[i] + (e0[i] + e1[i]) / 2, 1e-4, "element " + i);
        }
    }

    @Test
    void countsBytesSentAgainstTheUncompressedExchange() {
        List<TensorSpec> specs = List.of(
                new TensorSpec("big", Parameter.Kind.WEIGHT, new Shape(256, 1024)),
                new TensorSpec("bias", Parameter.Kind.BIAS, new Shape(256)),
                new TensorSpec("emb", Parameter.Kind.EMBEDDING, new Shape(100, 16)),
                new TensorSpec("small", Parameter.Kind.WEIGHT, new Shape(4, 4)));
        PowerSgd psgd = new PowerSgd(PowerSgdConfig.paper(4, 1), specs);
        long dense = 4L * (256 * 1024 + 256 + 1600 + 16);
        long sent = 4L * (4 * (256 + 1024) + 256 + 1600 + 16);  // 4×4 at rank 4 would cost 32 > 16 values: dense
        assertEquals(dense, psgd.plan().denseBytes());
        assertEquals(sent, psgd.plan().sentBytes());
        ExchangeStats stats = psgd.exchange(randomGradients(specs, new SplittableRandom(1)), data -> { });
        assertEquals(sent, stats.sentBytes());
        assertEquals(dense, stats.denseBytes());
        psgd.exchange(randomGradients(specs, new SplittableRandom(2)), data -> { });
        assertEquals(2 * sent, psgd.totalSentBytes());
        assertEquals(2 * dense, psgd.totalDenseBytes());
        assertEquals((double) dense / sent, stats.compression(), 1e-9);
    }

    @Test
    void compressesOnlyMatricesOfCompressibleKindsThatSaveBytes() {
        List<TensorSpec> specs = List.of(
                new TensorSpec("blocks.0.attn.qkv.weight", Parameter.Kind.WEIGHT, new Shape(48, 16)),
                new TensorSpec("blocks.0.attn.qkv.bias", Parameter.Kind.BIAS, new Shape(48)),
                new TensorSpec("blocks.0.ln1.gain", Parameter.Kind.GAIN, new Shape(16)),
                new TensorSpec("image_embedding.weight", Parameter.Kind.EMBEDDING, new Shape(64, 16)),
                new TensorSpec("unembedding.weight", Parameter.Kind.UNEMBEDDING, new Shape(80, 16)),
                new TensorSpec("conv.weight", Parameter.Kind.WEIGHT, new Shape(8, 4, 3, 3)),
                new TensorSpec("thin.weight", Parameter.Kind.WEIGHT, new Shape(16, 2)));
        CompressionPlan paper = new CompressionPlan(PowerSgdConfig.paper(2, 0), specs);
        List<Boolean> compressed = paper.entries().stream().map(CompressionPlan.Entry::compressed).toList();
        // 16×2 at rank 2: 2·18 = 36 values vs 32, no saving
        assertEquals(List.of(true, false, false, false, false, true, false), compressed);
        CompressionPlan.Entry conv = paper.entries().get(5);
        assertEquals(8, conv.spec().rows());
        assertEquals(36, conv.spec().columns());
        assertEquals(2L * (8 + 36), conv.sentValues());

        CompressionPlan withHead = new CompressionPlan(PowerSgdConfig.paper(2, 0)
                .withCompressedKinds(EnumSet.of(Parameter.Kind.WEIGHT, Parameter.Kind.UNEMBEDDING)), specs);
        assertTrue(withHead.entries().get(4).compressed());
        assertThrows(IllegalArgumentException.class, () -> PowerSgdConfig.paper(2, 0)
                .withCompressedKinds(EnumSet.of(Parameter.Kind.EMBEDDING)));
    }

    @Test
    void aNonFiniteGradientOnOneWorkerIsReportedEverywhereAndLeavesTheErrorBuffersUntouched() {
        List<TensorSpec> specs = List.of(new TensorSpec("w", Parameter.Kind.WEIGHT, new Shape(6, 5)));
        List<PowerSgd> ex = List.of(new PowerSgd(PowerSgdConfig.paper(1, 9), specs),
                new PowerSgd(PowerSgdConfig.paper(1, 9), specs));
        SplittableRandom rng = new SplittableRandom(4);
        try (LocalMeanReducers group = new LocalMeanReducers(2)) {
            group.exchange(ex, List.of(randomGradients(specs, rng), randomGradients(specs, rng)));
            float[] e0 = ex.get(0).errorBuffer("w");
            List<float[]> poisoned = randomGradients(specs, rng);
            poisoned.get(0)[7] = Float.POSITIVE_INFINITY;
            List<ExchangeStats> stats = group.exchange(ex, List.of(randomGradients(specs, rng), poisoned));
            assertFalse(stats.get(0).finite());
            assertFalse(stats.get(1).finite());
            assertArrayEquals(e0, ex.get(0).errorBuffer("w"));
        }
    }

    @Test
    void theFirstExactStepsAverageExactlyAndCountDenseBytesThenCompressionStarts() {
        List<TensorSpec> specs = List.of(new TensorSpec("w", Parameter.Kind.WEIGHT, new Shape(8, 8)));
        PowerSgdConfig config = PowerSgdConfig.paper(1, 9).withExactSteps(2);
        List<PowerSgd> ex = List.of(new PowerSgd(config, specs), new PowerSgd(config, specs));
        SplittableRandom rng = new SplittableRandom(6);
        try (LocalMeanReducers group = new LocalMeanReducers(2)) {
            for (int step = 0; step < 3; step++) {
                List<List<float[]>> grads = List.of(randomGradients(specs, rng), randomGradients(specs, rng));
                float[] exact = mean(grads, 0);
                ExchangeStats stats = group.exchange(ex, grads).get(0);
                if (step < 2) {
                    assertArrayEquals(exact, grads.get(0).get(0), 1e-6f);
                    assertEquals(4L * 64, stats.sentBytes());
                    assertArrayEquals(new float[64], ex.get(0).errorBuffer("w"), "no residual while exact");
                } else {
                    assertEquals(4L * (8 + 8), stats.sentBytes());
                }
            }
        }
        assertEquals(3, ex.get(0).exchanges());
        assertEquals(4L * (64 + 64 + 16), ex.get(0).totalSentBytes());
    }

    @Test
    void stateRestoresErrorBuffersAndQIntoAFreshCompressor() {
        List<TensorSpec> specs = List.of(new TensorSpec("w", Parameter.Kind.WEIGHT, new Shape(6, 5)));
        PowerSgdConfig config = PowerSgdConfig.paper(1, 9).withQ(PowerSgdConfig.QStart.WARM_START);
        PowerSgd a = new PowerSgd(config, specs);
        SplittableRandom rng = new SplittableRandom(3);
        a.exchange(randomGradients(specs, rng), data -> { });
        PowerSgd b = new PowerSgd(config, specs);
        b.restore(a.state(), a.exchanges());
        List<float[]> next = randomGradients(specs, rng);
        List<float[]> copy = List.of(next.get(0).clone());
        a.exchange(next, data -> { });
        b.exchange(copy, data -> { });
        assertArrayEquals(next.get(0), copy.get(0));
        assertArrayEquals(a.errorBuffer("w"), b.errorBuffer("w"));
        assertArrayEquals(a.q("w"), b.q("w"));
        assertThrows(IllegalArgumentException.class, () -> b.restore(java.util.Map.of(), 0));
    }

    @Test
    void householderGivesOrthonormalColumnsSpanningTheInput() {
        int n = 50;
        int r = 4;
        float[] p = randomGradients(List.of(new TensorSpec("p", Parameter.Kind.WEIGHT, new Shape(n, r))),
                new SplittableRandom(8)).get(0);
        float[] orig = p.clone();
        LowRank.orthogonalize(p, 0, n, r);
        for (int a = 0; a < r; a++) {
            for (int b = 0; b < r; b++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += p[i * r + a] * p[i * r + b];
                }
                assertEquals(a == b ? 1 : 0, dot, 1e-5, "column " + a + "·" + b);
            }
        }
        for (int c = 0; c < r; c++) {         // each input column is reproduced by its projection
            for (int i = 0; i < n; i++) {
                double proj = 0;
                for (int a = 0; a < r; a++) {
                    double coef = 0;
                    for (int k = 0; k < n; k++) {
                        coef += p[k * r + a] * orig[k * r + c];
                    }
                    proj += coef * p[i * r + a];
                }
                assertEquals(orig[i * r + c], proj, 1e-4);
            }
        }
    }
}
