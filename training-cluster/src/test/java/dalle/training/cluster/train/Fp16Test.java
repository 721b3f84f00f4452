package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.precision.BranchGradientTap;
import dalle.training.cluster.precision.MixedPrecisionPrior;
import dalle.training.cluster.precision.ResblockGradScaler;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --precision fp16} in the distributed trainer: W = 2 workers in one shard group, tiny prior. */
class Fp16Test {

    private static final int RESBLOCKS = MixedPrecisionPrior.resblocks(2);
    private static BpeTokenizer tokenizer;
    private static CodeCache codes;

    @TempDir
    Path tmp;

    @BeforeAll
    static void data() {
        tokenizer = TinyPriorRun.tokenizer();
        codes = TinyPriorRun.codes();
    }

    /** A worker's result and its policy's scales at the end. */
    private record Outcome(DistributedTrainer.Result result, float[] scales) {
    }

    private static List<Outcome> train(DistributedRun run, Path out, long until, boolean resume,
                                       IntFunction<BranchGradientTap> tapOfRank) {
        return InProcessCollectives.runOnThreads(run.workers(), world -> {
            Groups g = Groups.machines(world, run.groupSize());
            Fp16 policy = new Fp16(tapOfRank.apply(world.rank()));
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tokenizer).optExchange(TinyPriorRun.exact().apply(g)).optPrecision(policy)
                    .optResume(resume).build()) {
                return new Outcome(t.run(until), policy.scales());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One Inf put into the gradient entering {@code block} during the update at {@code atStep}; updates counted from {@code firstStep}. */
    private static BranchGradientTap overflow(int block, long atStep, long firstStep) {
        long[] update = {firstStep - 1};
        return (u, g) -> {
            if (u == RESBLOCKS - 1) {
                update[0]++;                              // the backward pass visits the resblocks last to first
            }
            if (u != block || update[0] != atStep) {
                return g;
            }
            NDArray poisoned = g.duplicate();
            poisoned.set(new NDIndex("0, 1, 2"), Float.POSITIVE_INFINITY);
            return poisoned;
        };
    }

    private static DistributedRun run(String precision, long steps, int checkpointEvery) {
        return TinyPriorRun.run(tokenizer, 8, steps, 13, 2, 1, checkpointEvery, 0f, precision, 0);
    }

    @Test
    void fp16IsNamedOnTheCommandLine() {
        assertEquals("fp16", PrecisionPolicy.named("fp16").name());
        assertNotEquals(PrecisionPolicy.named("fp16"), PrecisionPolicy.named("fp16"), "one policy per worker");
    }

    @Test
    void anFp16RunOfTwoWorkersEndsWithin5PercentOfTheFp32Run() {
        DistributedRun fp32 = run("fp32", 16, 1000);
        DistributedRun fp16 = run("fp16", 16, 1000);
        List<Float> reference = TinyPriorRun.losses(TinyPriorRun.train(fp32, tmp.resolve("fp32"), fp32.steps(), false,
                codes, tokenizer, TinyPriorRun.exact()).get(0));
        List<Outcome> low = train(fp16, tmp.resolve("fp16"), fp16.steps(), false, r -> BranchGradientTap.NONE);
        List<Float> half = TinyPriorRun.losses(low.get(0).result());
        int n = half.size();
        assertEquals(16, n);
        assertTrue(low.get(0).result().steps().stream().noneMatch(DistributedTrainer.StepRecord::skipped),
                "no overflow at the paper's initial scales");
        assertNotEquals(reference, half, "fp16 changed nothing");
        assertTrue(half.get(n - 1) < 0.9 * half.get(0), "fp16 learned: " + half);
        assertEquals(reference.get(n - 1), half.get(n - 1), 0.05 * reference.get(n - 1), "fp32 " + reference
                + " vs fp16 " + half);
        double expected = 2 * Math.pow(2, 13) * Math.pow(ResblockGradScaler.GROWTH, n);
        for (Outcome o : low) {
            for (float s : o.scales()) {
                assertEquals(expected, s, 1e-3 * expected, "every scale grew once per clean update from W·2^13");
            }
        }
        System.out.printf("fp16 W=2 G=1, %d steps of 8: fp32 final loss %.6f, fp16 %.6f (%+.2f%%)%n", n,
                reference.get(n - 1), half.get(n - 1), 100 * (half.get(n - 1) / reference.get(n - 1) - 1));
    }

    @Test
    void anOverflowInOneResblockOnOneWorkerSkipsTheUpdateOnAllWorkersAndShrinksOnlyThatScale() {
        int victim = 2;                                   // blocks.1.attn
        long at = 2;
        DistributedRun fp16 = run("fp16", 5, 1000);
        List<Outcome> outcomes = train(fp16, tmp.resolve("overflow"), fp16.steps(), false,
                r -> r == 1 ? overflow(victim, at, 0) : BranchGradientTap.NONE);

        ResblockGradScaler expected = new ResblockGradScaler(RESBLOCKS, 2);
        for (long s = 0; s < fp16.steps(); s++) {
            boolean[] finite = new boolean[RESBLOCKS];
            java.util.Arrays.fill(finite, true);
            finite[victim] = s != at;
            expected.update(finite, true);
        }
        for (int rank = 0; rank < outcomes.size(); rank++) {
            List<DistributedTrainer.StepRecord> steps = outcomes.get(rank).result().steps();
            for (int s = 0; s < steps.size(); s++) {
                assertEquals(s == at, steps.get(s).skipped(), "worker " + rank + ", update " + s);
            }
            float[] scales = outcomes.get(rank).scales();
            assertArrayEquals(expected.scales(), scales, "worker " + rank + " applied the agreed flags");
            assertTrue(scales[victim] < scales[0] / 1.4, "the victim's scale shrank: " + java.util.Arrays.toString(scales));
            assertEquals(scales[0], scales[1], 0f);
            assertEquals(scales[0], scales[3], 0f);
        }
        assertEquals(outcomes.get(0).result().steps(), outcomes.get(1).result().steps(), "workers agree on every update");
    }

    @Test
    void anFp16RunResumedFromItsCheckpointEqualsTheUninterruptedRun() {
        int victim = 1;                                   // blocks.0.mlp: a shrink before the checkpoint
        DistributedRun fp16 = run("fp16", 8, 3);
        List<Outcome> whole = train(fp16, tmp.resolve("whole"), fp16.steps(), false,
                r -> r == 0 ? overflow(victim, 1, 0) : BranchGradientTap.NONE);
        Path out = tmp.resolve("resumed");
        train(fp16, out, 5, false, r -> r == 0 ? overflow(victim, 1, 0) : BranchGradientTap.NONE);
        List<Outcome> resumed = train(fp16, out, fp16.steps(), true, r -> BranchGradientTap.NONE);

        List<DistributedTrainer.StepRecord> all = whole.get(0).result().steps();
        List<DistributedTrainer.StepRecord> tail = resumed.get(0).result().steps();
        assertEquals(3, tail.size());
        assertEquals(all.subList(5, 8), tail, "the resumed updates equal the uninterrupted run's");
        assertTrue(all.get(1).skipped());
        for (int rank = 0; rank < 2; rank++) {
            assertArrayEquals(whole.get(rank).scales(), resumed.get(rank).scales(), "worker " + rank + "'s scales");
        }
        assertTrue(resumed.get(0).scales()[victim] < resumed.get(0).scales()[0], "the shrink survived the resume");
    }

    @Test
    void theScalerStateRoundTripsThroughExactFloats() {
        long[] values = {Long.MIN_VALUE, -1, 0, 1, Double.doubleToRawLongBits(Math.PI * 8192), Long.MAX_VALUE};
        assertArrayEquals(values, Fp16.decode(Fp16.encode(values)));
    }
}
