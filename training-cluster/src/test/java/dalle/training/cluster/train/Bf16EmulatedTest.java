package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.precision.Bf16;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.nn.Linear;
import dalle.core.nn.Parameter;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Bf16EmulatedTest {

    @TempDir
    Path tmp;

    @Test
    void theForwardSeesBf16ResblockWeightsWhileTheShardsKeepFp32Masters() {
        InProcessCollectives.runOnThreads(1, world -> {
            try (NDManager manager = NDManager.newBaseManager()) {
                Linear linear = new Linear(manager, new SplittableRandom(3), 16, 8, true);
                Map<String, Parameter> params = linear.parameters();
                ShardedParameters sharded = new ShardedParameters(world, manager, params, 0.9f, 0.95f, 1e-8f, 0f);
                List<ShardView> views = sharded.views();
                Map<String, float[]> before = new java.util.LinkedHashMap<>();
                views.forEach(v -> before.put(v.name(), v.value().clone()));
                // the weight's fp32 init is not bf16-representable; a bias of 1/3 is not either
                views.stream().filter(v -> v.kind() == Parameter.Kind.BIAS).forEach(v -> {
                    java.util.Arrays.fill(v.value(), 1f / 3);
                    before.put(v.name(), v.value().clone());
                });

                new Bf16Emulated().gather(sharded, views);

                for (ShardView v : views) {
                    float[] used = params.get(v.name()).array().toFloatArray();
                    float[] master = before.get(v.name());
                    assertTrue(java.util.Arrays.equals(master, v.value()), v.name() + ": the fp32 master changed");
                    for (int i = 0; i < used.length; i++) {
                        float expected = v.kind() == Parameter.Kind.WEIGHT ? Bf16.round(master[i]) : master[i];
                        assertEquals(expected, used[i], 0f, v.name() + "[" + i + "]");
                    }
                    if (v.kind() == Parameter.Kind.WEIGHT) {
                        assertFalse(java.util.Arrays.equals(master, used), "the weight was rounded");
                    }
                }
                return null;
            }
        });
    }

    @Test
    void weightGradientsAreRoundedOthersKeptAndAnOverflowSkipsTheUpdate() {
        ShardView weight = view("w", Parameter.Kind.WEIGHT, new float[] {1.001f, -3.3333333f});
        ShardView bias = view("b", Parameter.Kind.BIAS, new float[] {1.001f, -3.3333333f});
        assertTrue(new Bf16Emulated().unscale(List.of(weight, bias)));
        assertEquals(Bf16.round(1.001f), weight.grad()[0], 0f);
        assertEquals(Bf16.round(-3.3333333f), weight.grad()[1], 0f);
        assertNotEquals(1.001f, weight.grad()[0]);
        assertEquals(1.001f, bias.grad()[0], 0f);

        ShardView overflow = view("o", Parameter.Kind.BIAS, new float[] {Float.POSITIVE_INFINITY, 0f});
        assertFalse(new Bf16Emulated().unscale(List.of(weight, overflow)));
    }

    @Test
    void aBf16RunOfTwoGroupsLearnsAlongsideFp32ButNotIdentically() {
        BpeTokenizer tokenizer = TinyPriorRun.tokenizer();
        CodeCache codes = TinyPriorRun.codes();
        DistributedRun fp32 = TinyPriorRun.run(tokenizer, 8, 20, 13, 4, 2, 1000, 0f, "fp32", 0);
        DistributedRun bf16 = TinyPriorRun.run(tokenizer, 8, 20, 13, 4, 2, 1000, 0f, "bf16", 0);
        List<Float> reference = TinyPriorRun.losses(TinyPriorRun.train(fp32, tmp.resolve("fp32"), fp32.steps(), false,
                codes, tokenizer, TinyPriorRun.exact()).get(0));
        List<Float> low = TinyPriorRun.losses(TinyPriorRun.train(bf16, tmp.resolve("bf16"), bf16.steps(), false,
                codes, tokenizer, TinyPriorRun.exact()).get(0));
        int n = low.size();
        assertEquals(reference.get(0), low.get(0), 1e-2 * reference.get(0), "the same model at step 1");
        assertNotEquals(reference, low, "bf16 rounding changed nothing");
        assertTrue(low.get(n - 1) < 0.9 * low.get(0), "bf16 learned: " + low);
        assertEquals(reference.get(n - 1), low.get(n - 1), 0.05 * reference.get(n - 1), "fp32 " + reference
                + " vs bf16 " + low);
        double most = 0;
        for (int i = 0; i < n; i++) {
            most = Math.max(most, Math.abs(low.get(i) - reference.get(i)) / reference.get(i));
        }
        System.out.printf("W=4 G=2, 20 steps: fp32 final loss %.6f, bf16 %.6f, largest per-step difference %.2e"
                + " relative%n", reference.get(n - 1), low.get(n - 1), most);
    }

    private static ShardView view(String name, Parameter.Kind kind, float[] grad) {
        int n = grad.length;
        return new ShardView(name, kind, new Shape(n), n, 0, new float[n], new float[n], new float[n], grad);
    }
}
