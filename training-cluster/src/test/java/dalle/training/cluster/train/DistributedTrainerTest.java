package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.PriorTask;
import dalle.core.train.Trainer;
import dalle.core.train.TrainerOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.core.train.NonFiniteUpdateException;

class DistributedTrainerTest {

    /** 50 steps take seconds with this model; the must-show asks for 50. */
    static final int STEPS = 50;
    static final int BATCH = 8;
    static final long SEED = 11;

    static BpeTokenizer tokenizer;
    static CodeCache codes;
    static List<Float> single;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void singleWorkerTrainerOnTheGlobalBatch() throws IOException {
        tokenizer = TinyPriorRun.tokenizer();
        codes = TinyPriorRun.codes();
        single = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
             PriorTask task = new PriorTask(manager, TinyPriorRun.config(tokenizer), codes, tokenizer, BATCH, SEED,
                     TinyPriorRun.schedule(), TinyPriorRun.optimizer(), 0f);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(tmp.resolve("single"), STEPS, SEED, 1000,
                     false), m -> single.add(m.loss()))) {
            trainer.run();
        }
    }

    @Test
    void fourShardedWorkersInOneGroupFollowTheSingleWorkerLossCurve() {
        assertFollowsSingleWorker(4, 1);
    }

    @Test
    void fourWorkersInTwoGroupsFollowTheSingleWorkerLossCurve() {
        assertFollowsSingleWorker(4, 2);
    }

    @Test
    void anFp32UpdateWithANanGradientStopsEveryWorkerNamingItAfterCheckpointingTheSoundOnes() {
        // Given two sharded workers in fp32, and an exchange that puts a NaN into worker 1's first shard at update 3
        DistributedRun run = TinyPriorRun.run(tokenizer, BATCH, 10, SEED, 2, 1, 1000, 0f);
        Path out = tmp.resolve("fp32-nan");
        long at = 2;
        // When they train
        RuntimeException e = assertThrows(RuntimeException.class, () -> InProcessCollectives.runOnThreads(2, world -> {
            Groups g = Groups.machines(world, run.groupSize());
            ReplicaExchange exact = ReplicaExchange.exactMean(g.replica());
            ReplicaExchange poisoning = new ReplicaExchange() {
                private long calls;

                @Override
                public String name() {
                    return exact.name();
                }

                @Override
                public void exchange(List<ShardedParameters.ShardView> shards) {
                    exact.exchange(shards);
                    if (calls++ == at && world.rank() == 1) {
                        shards.get(0).grad()[0] = Float.NaN;
                    }
                }
            };
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tokenizer).optExchange(poisoning).optPrecision(PrecisionPolicy.FP32).build()) {
                return t.run();
            } catch (IOException io) {
                throw new UncheckedIOException(io);
            }
        }));
        // Then the run stops with the update and the parameter named, and the two sound updates are checkpointed
        NonFiniteUpdateException nonFinite = e instanceof NonFiniteUpdateException n ? n
                : (NonFiniteUpdateException) e.getCause();
        assertEquals(at + 1, nonFinite.step());
        assertTrue(nonFinite.getMessage().startsWith("update 3 of 10: the loss is finite"), nonFinite.getMessage());
        assertEquals(at, ShardCheckpoint.verify(out).step());
    }

    @Test
    void theBuilderNamesWhatIsMissingAndRefusesAPolicyOfAnotherPrecision() {
        DistributedRun run = TinyPriorRun.run(tokenizer, BATCH, 2, SEED, 1, 1, 1000, 0f);
        Groups g = Groups.machines(InProcessCollectives.world(1).get(0), 1);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> DistributedTrainer.builder().setRun(run).setGroups(g).build());
        assertEquals("a distributed trainer needs setRun, setOutput, setGroups and setData (missing: output, data)",
                missing.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> DistributedTrainer.builder().setRun(run).setOutput(tmp.resolve("other")).setGroups(g)
                        .setData(codes, tokenizer).optPrecision(new Bf16Emulated()).build());
        assertEquals("precision policy bf16 for a run in fp32", other.getMessage());
    }

    private void assertFollowsSingleWorker(int workers, int groups) {
        DistributedRun run = TinyPriorRun.run(tokenizer, BATCH, STEPS, SEED, workers, groups, 1000, 0f);
        Path out = tmp.resolve("w" + workers + "g" + groups);
        List<List<Float>> curves = InProcessCollectives.runOnThreads(workers, world -> {
            Groups g = Groups.machines(world, run.groupSize());
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tokenizer).optExchange(ReplicaExchange.exactMean(g.replica()))
                    .optPrecision(PrecisionPolicy.FP32).build()) {
                List<Float> losses = new ArrayList<>();
                t.run().steps().forEach(r -> losses.add(r.loss()));
                return losses;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        for (List<Float> curve : curves) {
            assertEquals(STEPS, curve.size());
            for (int i = 0; i < STEPS; i++) {
                float e = single.get(i);
                assertEquals(e, curve.get(i), 1e-4 * Math.abs(e), "W=" + workers + " G=" + groups + " loss at step "
                        + (i + 1) + "; single " + single + " vs sharded " + curve);
            }
        }
        // the curve moved: the comparison is between two learning runs, not two frozen models
        assertTrue(single.get(STEPS - 1) < 0.8 * single.get(0), single.toString());
    }
}
