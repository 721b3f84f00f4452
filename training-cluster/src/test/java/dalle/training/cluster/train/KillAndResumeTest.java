package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two worker processes under a {@link Coordinator}; one is SIGKILLed after the first checkpoint. */
class KillAndResumeTest {

    static final int WORKERS = 2;
    static final long STEPS = 200;
    static final int EVERY = 20;
    static final long SEED = 5;

    @TempDir
    Path tmp;

    @Test
    void aKilledWorkerMakesTheJobResumeFromTheCheckpointAndEndWithTheUninterruptedLoss() throws Exception {
        BpeTokenizer tokenizer = TinyPriorRun.tokenizer();
        CodeCache codes = TinyPriorRun.codes();
        DistributedRun run = TinyPriorRun.run(tokenizer, 8, STEPS, SEED, WORKERS, 1, EVERY, 0.1f);

        // Given the uninterrupted run (threads; the ring sums equal TCP's bit for bit)
        float uninterrupted = InProcessCollectives.runOnThreads(WORKERS, world -> {
            Groups g = Groups.machines(world, run.groupSize());
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(tmp.resolve("reference"))
                    .setGroups(g).setData(codes, tokenizer).optExchange(ReplicaExchange.exactMean(g.replica()))
                    .optPrecision(PrecisionPolicy.FP32).build()) {
                return t.run().lastLoss();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(0);

        // When the same run goes through the coordinator and worker 1 is killed after a checkpoint
        Path dir = tmp.resolve("run");
        run.save(dir);
        codes.save(dir.resolve(PriorWorker.CODES));
        tokenizer.save(dir.resolve(PriorWorker.TOKENIZER));
        List<String> messages = Collections.synchronizedList(new ArrayList<>());
        Coordinator coordinator = new Coordinator(workerCommand(), dir, WORKERS, 2, messages::add);
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                coordinator.run(false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Path manifest = dir.resolve(ShardCheckpoint.LATEST).resolve(ShardCheckpoint.MANIFEST);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(manifest) && System.nanoTime() < deadline && !job.isDone()) {
            Thread.sleep(20);
        }
        if (!Files.exists(manifest)) {
            job.get(1, TimeUnit.SECONDS); // surfaces the coordinator's failure, if that is why
        }
        assertTrue(Files.exists(manifest), "no checkpoint appeared; coordinator said " + messages);
        ProcessHandle victim = coordinator.workers().get(1);
        assertTrue(victim.isAlive(), "worker 1 finished before it could be killed: make the run longer");
        victim.destroyForcibly(); // SIGKILL
        job.get(240, TimeUnit.SECONDS);

        // Then the job restarted once from the checkpoint and ends where the uninterrupted run ends
        assertEquals(2, coordinator.attempts(), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.contains("worker 1 was killed (signal 9)")), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.contains("resumes from the checkpoint at step")),
                messages.toString());
        List<String> rows = Files.readAllLines(dir.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank()).toList();
        assertEquals(STEPS, rows.size(), "one metrics row per step, none repeated after the resume");
        var last = JsonParser.parseString(rows.get(rows.size() - 1)).getAsJsonObject();
        assertEquals(STEPS, last.get("step").getAsLong());
        float resumed = last.get("loss").getAsFloat();
        assertEquals(uninterrupted, resumed, 1e-3 * Math.abs(uninterrupted),
                "final loss: uninterrupted " + uninterrupted + ", killed and resumed " + resumed);
        assertTrue(Files.isRegularFile(dir.resolve("model").resolve("model.safetensors")), "final model written");
    }

    /** This JVM's java and classpath, one libtorch thread, the worker's main class. */
    static List<String> workerCommand() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return List.of(java.toString(), "-Xmx1g", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), PriorWorker.class.getName());
    }
}
