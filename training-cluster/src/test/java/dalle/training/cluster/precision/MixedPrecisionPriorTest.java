package dalle.training.cluster.precision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dalle.training.cluster.powersgd.GradientArrays;
import dalle.training.cluster.powersgd.SyntheticStreams;
import dalle.core.nn.AdamW;
import dalle.core.nn.Gradients;
import dalle.core.nn.Parameter;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

class MixedPrecisionPriorTest {

    /** 2 layers of width 32 over a 4×4 grid: small enough for DJL's slow CPU FLOAT16. */
    static final PriorConfig MICRO = new PriorConfig(16, 4, 0, 16, 4, 32, 2, 2, 3, 2);

    @Test
    void blockwiseScaledBackwardGivesTheGradientsOfOneOrdinaryBackwardInFp32() {
        try (NDManager manager = NDManager.newBaseManager(); NDManager data = manager.newSubManager()) {
            DallePrior prior = new DallePrior(manager, PriorConfig.tiny(16, 0), 3);
            prior.setRequiresGradient(true);
            Collection<Parameter> params = prior.parameters().values();
            NDArray[] batch = new SyntheticStreams(prior.config(), 5).batch(0, 2, data);

            float ordinaryLoss;
            try (NDManager scope = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray loss = prior.loss(batch[0], batch[1]).total();
                gc.backward(loss);
                ordinaryLoss = loss.getFloat();
            }
            List<float[]> ordinary = GradientArrays.read(params);
            Gradients.zero(params);

            ResblockGradScaler scaler = new ResblockGradScaler(MixedPrecisionPrior.resblocks(4), 1);
            MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, ComputePrecision.FP32, scaler);
            MixedPrecisionPrior.Backward g = mp.lossAndGradients(batch[0], batch[1], BranchGradientTap.NONE);
            List<float[]> blockwise = GradientArrays.read(params);

            assertEquals(ordinaryLoss, g.loss(), 1e-6f);
            List<String> names = new ArrayList<>(prior.parameters().keySet());
            for (int i = 0; i < names.size(); i++) {
                float[] a = ordinary.get(i);
                float[] b = blockwise.get(i);
                float max = 0;
                for (float v : a) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0, names.get(i) + " has a gradient");
                for (int k = 0; k < a.length; k++) {
                    assertEquals(a[k], b[k], 1e-5f * max, names.get(i) + "[" + k + "]");
                }
            }
        }
    }

    @Test
    void fp16AndBf16GradientsOfAFreshPriorReachTheFp32MastersCloseToTheFp32Ones() {
        List<List<float[]>> grads = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (ComputePrecision p : ComputePrecision.values()) {
            try (NDManager manager = NDManager.newBaseManager(); NDManager data = manager.newSubManager()) {
                DallePrior prior = new DallePrior(manager, MICRO, 1);   // fresh: no gradient tensors yet
                names = new ArrayList<>(prior.parameters().keySet());
                prior.setRequiresGradient(true);
                MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, p, new ResblockGradScaler(4, 1));
                NDArray[] batch = new SyntheticStreams(MICRO, 2).batch(0, 4, data);
                mp.lossAndGradients(batch[0], batch[1], BranchGradientTap.NONE);
                grads.add(GradientArrays.read(prior.parameters().values()));
            }
        }
        for (int i = 0; i < names.size(); i++) {
            float[] fp32 = grads.get(0).get(i);
            assertTrue(relativeError(fp32, grads.get(1).get(i)) < 5e-3, "fp16 " + names.get(i));
            assertTrue(relativeError(fp32, grads.get(2).get(i)) < 2e-2, "bf16 " + names.get(i));
        }
    }

    private static double relativeError(float[] reference, float[] other) {
        double diff = 0;
        double norm = 0;
        for (int k = 0; k < reference.length; k++) {
            diff += Math.pow(reference[k] - other[k], 2);
            norm += Math.pow(reference[k], 2);
        }
        return Math.sqrt(diff / norm);
    }

    @Test
    void anOverflowInjectedIntoOneResblockShrinksThatScaleOnlyAndSkipsTheUpdate() {
        try (NDManager manager = NDManager.newBaseManager(); NDManager data = manager.newSubManager()) {
            DallePrior prior = new DallePrior(manager, MICRO, 3);
            prior.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 0f);
            ResblockGradScaler scaler = new ResblockGradScaler(MixedPrecisionPrior.resblocks(2), 1);
            MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, ComputePrecision.FP32, scaler);
            NDArray[] batch = new SyntheticStreams(MICRO, 5).batch(0, 4, data);
            List<float[]> before = values(prior);
            float[] scalesBefore = scaler.scales();
            int victim = 2;                                     // blocks.1.attn
            BranchGradientTap overflow = (u, g) -> {
                if (u != victim) {
                    return g;
                }
                NDArray poisoned = g.duplicate();
                poisoned.set(new NDIndex("0, 1, 2"), Float.POSITIVE_INFINITY);
                return poisoned;
            };

            MixedPrecisionPrior.Update update = mp.step(batch[0], batch[1], opt, 1e-2f, overflow);

            assertFalse(update.decision().apply(), "the update is skipped");
            assertArrayEquals(new int[] {victim}, update.decision().shrunk());
            float[] scales = scaler.scales();
            for (int u = 0; u < scales.length; u++) {
                float expect = u == victim ? (float) (scalesBefore[u] / Math.sqrt(2)) : scalesBefore[u];
                assertEquals(expect, scales[u], 1e-3f, mp.resblockNames().get(u));
            }
            List<float[]> after = values(prior);
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(before.get(i), after.get(i), "weights unchanged by a skipped update");
            }

            // The filter kept the overflow inside its resblock: every other gradient was finite
            MixedPrecisionPrior.Backward g = mp.lossAndGradients(batch[0], batch[1], overflow);
            for (int u = 0; u < scales.length; u++) {
                assertEquals(u != victim, g.resblockFinite()[u], mp.resblockNames().get(u));
            }
            assertTrue(g.restFinite(), "embeddings and head stay finite");

            // And a clean update goes through and grows every scale
            MixedPrecisionPrior.Update clean = mp.step(batch[0], batch[1], opt, 5e-3f, BranchGradientTap.NONE);
            assertTrue(clean.decision().apply());
            assertEquals(scales[0] * ResblockGradScaler.GROWTH, scaler.scale(0), 1e-2);
            List<float[]> updated = values(prior);
            boolean moved = false;
            for (int i = 0; i < before.size(); i++) {
                moved |= !java.util.Arrays.equals(before.get(i), updated.get(i));
            }
            assertTrue(moved, "the clean update changed the weights");
        }
    }

    @Test
    void updatesLeaveNoArraysOnTheModelsManager() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, MICRO, 3);
            prior.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 0f);
            MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, ComputePrecision.FP16,
                    new ResblockGradScaler(MixedPrecisionPrior.resblocks(2), 1));
            SyntheticStreams data = new SyntheticStreams(MICRO, 5);
            int before = -1;
            for (int step = 0; step < 4; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray[] batch = data.batch(4L * step, 4, scope);
                    mp.step(batch[0], batch[1], opt, 1e-3f, BranchGradientTap.NONE);
                }
                if (step == 0) {
                    before = manager.getManagedArrays().size();  // after the first update: masks cached
                }
            }
            assertEquals(before, manager.getManagedArrays().size(), "arrays left on the model's manager");
        }
    }

    @Test
    void withTheGlobalLossScalerAnOverflowHalvesTheOneScaleAndSkipsTheUpdate() {
        try (NDManager manager = NDManager.newBaseManager(); NDManager data = manager.newSubManager()) {
            DallePrior prior = new DallePrior(manager, MICRO, 3);
            prior.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 0f);
            ResblockGradScaler perResblock = new ResblockGradScaler(MixedPrecisionPrior.resblocks(2), 1);
            MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, ComputePrecision.FP16, perResblock);
            DynamicLossScaler global = DynamicLossScaler.standard();
            NDArray[] batch = new SyntheticStreams(MICRO, 5).batch(0, 4, data);
            List<float[]> before = values(prior);
            BranchGradientTap overflow = (u, g) -> {
                NDArray poisoned = g.duplicate();
                if (u == 1) {
                    poisoned.set(new NDIndex("0, 0, 0"), Float.NaN);
                }
                return poisoned;
            };

            assertFalse(mp.stepWithLossScaler(batch[0], batch[1], opt, 1e-2f, global, overflow).decision().apply());
            assertEquals(32768f, global.scale());
            assertArrayEquals(perResblock.scales(), new ResblockGradScaler(4, 1).scales(), "per-resblock scales untouched");
            List<float[]> after = values(prior);
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(before.get(i), after.get(i));
            }
            assertTrue(mp.stepWithLossScaler(batch[0], batch[1], opt, 1e-2f, global, BranchGradientTap.NONE)
                    .decision().apply(), "fp16 at scale 2^15 does not overflow on this model");
        }
    }

    @Test
    void fp16AndEmulatedBf16TrainingEndWithin5PercentOfFp32() {
        float fp32 = train(ComputePrecision.FP32);
        float bf16 = train(ComputePrecision.BF16_EMULATED);
        float fp16 = train(ComputePrecision.FP16);
        System.out.printf("micro prior, 150 updates: final loss fp32 %.4f, fp16 %.4f (%+.2f%%), bf16 (emulated) %.4f"
                + " (%+.2f%%)%n", fp32, fp16, 100 * (fp16 / fp32 - 1), bf16, 100 * (bf16 / fp32 - 1));
        assertTrue(fp32 < 0.7 * Math.log(16), "fp32 learned well below the uniform loss: " + fp32);
        assertEquals(fp32, fp16, 0.05 * fp32, "fp16");
        assertEquals(fp32, bf16, 0.05 * fp32, "bf16");
        assertNotEquals(fp32, fp16, "fp16 ran in fp16");
        assertNotEquals(fp32, bf16, "bf16 rounding changed something");
    }

    /** 150 updates of batch 8 of fresh synthetic examples; the loss on 64 held-out ones at the end, in fp32. */
    private static float train(ComputePrecision precision) {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, MICRO, 1);
            prior.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 0f);
            MixedPrecisionPrior mp = new MixedPrecisionPrior(prior, precision,
                    new ResblockGradScaler(MixedPrecisionPrior.resblocks(MICRO.layers()), 1));
            SyntheticStreams data = new SyntheticStreams(MICRO, 2);
            for (int step = 0; step < 150; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray[] batch = data.batch(8L * step, 8, scope);
                    MixedPrecisionPrior.Update u = mp.step(batch[0], batch[1], opt, 5e-3f, BranchGradientTap.NONE);
                    assertTrue(u.decision().apply(), precision + " step " + step + " overflowed");
                }
            }
            try (NDManager scope = manager.newSubManager()) {
                NDArray[] all = data.heldOut(64, scope);
                return prior.loss(all[0], all[1]).total().getFloat();
            }
        }
    }

    private static List<float[]> values(DallePrior prior) {
        List<float[]> out = new ArrayList<>();
        prior.parameters().values().forEach(p -> out.add(p.array().toFloatArray()));
        return out;
    }
}
