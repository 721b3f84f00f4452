package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.core.io.CheckpointException;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardCheckpointTest {

    static BpeTokenizer tokenizer;
    static CodeCache codes;

    @TempDir
    Path tmp;

    @BeforeAll
    static void data() {
        tokenizer = TinyPriorRun.tokenizer();
        codes = TinyPriorRun.codes();
    }

    /** Trains {@code run} on threads to {@code until} steps; returns each rank's last loss. */
    private List<Float> train(DistributedRun run, Path out, long until, boolean resume) {
        return InProcessCollectives.runOnThreads(run.workers(), world -> {
            Groups g = Groups.machines(world, run.groupSize());
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tokenizer).optExchange(ReplicaExchange.exactMean(g.replica()))
                    .optPrecision(PrecisionPolicy.FP32).optResume(resume).build()) {
                return t.run(until).lastLoss();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void resumingInProcessRepeatsTheUninterruptedRunExactly() {
        DistributedRun run = TinyPriorRun.run(tokenizer, 8, 12, 3, 2, 1, 4, 0.1f);
        float whole = train(run, tmp.resolve("whole"), 12, false).get(0);
        train(run, tmp.resolve("split"), 6, false);
        float resumed = train(run, tmp.resolve("split"), 12, true).get(0);
        assertEquals(whole, resumed, 0f, "optimizer moments, EMA and data position come back bit for bit");
    }

    @Test
    void aCorruptShardIsRefusedNamingTheFile() throws IOException {
        DistributedRun run = TinyPriorRun.run(tokenizer, 8, 10, 3, 2, 1, 5, 0f);
        Path out = tmp.resolve("run");
        train(run, out, 5, false);
        Path shard = out.resolve(ShardCheckpoint.LATEST).resolve(ShardCheckpoint.shardFile(1));
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(shard, bytes);

        CheckpointException e = assertThrows(CheckpointException.class, () -> ShardCheckpoint.verify(out));
        assertEquals(shard, e.path());
        assertTrue(e.getMessage().contains("differs from the manifest"), e.getMessage());
        Throwable onResume = assertThrows(RuntimeException.class, () -> train(run, out, 10, true));
        // rank 1 refuses its shard by name; rank 0 fails at once too (instead of waiting in a collective)
        assertTrue(causes(onResume, t -> t instanceof CheckpointException c && (c.path().equals(shard)
                || c.getMessage().contains("1 other worker(s) refused this checkpoint"))), onResume.toString());
    }

    @Test
    void aCheckpointOfAnotherWorldSizeOrSeedIsRefused() {
        Path out = tmp.resolve("run");
        train(TinyPriorRun.run(tokenizer, 8, 4, 3, 2, 1, 4, 0f), out, 4, false);
        Path manifest = out.resolve(ShardCheckpoint.LATEST).resolve(ShardCheckpoint.MANIFEST);

        Throwable fourWorkers = assertThrows(RuntimeException.class,
                () -> train(TinyPriorRun.run(tokenizer, 8, 8, 3, 4, 1, 4, 0f), out, 8, true));
        assertTrue(causes(fourWorkers, t -> t instanceof CheckpointException c && c.path().equals(manifest)
                && c.getMessage().contains("written by 2 workers in 1 groups; this run has 4 workers")), fourWorkers.toString());
        Throwable otherSeed = assertThrows(RuntimeException.class,
                () -> train(TinyPriorRun.run(tokenizer, 8, 8, 4, 2, 1, 4, 0f), out, 8, true));
        assertTrue(causes(otherSeed, t -> t.getMessage() != null && t.getMessage().contains("seed is 3, this run's is 4")),
                otherSeed.toString());
    }

    @Test
    void aCheckpointWithoutManifestIsNeverUsed() throws IOException {
        Path out = tmp.resolve("run");
        Files.createDirectories(out.resolve(ShardCheckpoint.LATEST));
        Files.writeString(out.resolve(ShardCheckpoint.LATEST).resolve(ShardCheckpoint.shardFile(0)), "partial");
        assertTrue(!ShardCheckpoint.exists(out), "a directory without a manifest is not a checkpoint");
        assertThrows(CheckpointException.class, () -> ShardCheckpoint.verify(out));
    }

    private static boolean causes(Throwable t, Function<Throwable, Boolean> test) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (test.apply(c)) {
                return true;
            }
        }
        return false;
    }
}
