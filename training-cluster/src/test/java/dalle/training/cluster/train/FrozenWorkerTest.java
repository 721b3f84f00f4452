package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * Two worker processes under a {@link Coordinator}; one is stopped with SIGSTOP after the first checkpoint:
 * alive, connected, silent. Its peer's collective times out naming it, and the job restarts from the checkpoint.
 */
class FrozenWorkerTest {

    static final int WORKERS = 2;
    static final long STEPS = 120;
    static final int EVERY = 20;
    static final int PEER_TIMEOUT_S = 4;

    @TempDir
    Path tmp;

    @Test
    void aStoppedWorkerFailsTheStepNamingItWithinThePeerTimeoutAndTheJobResumesFromTheCheckpoint() throws Exception {
        BpeTokenizer tokenizer = TinyPriorRun.tokenizer();
        CodeCache codes = TinyPriorRun.codes();
        DistributedRun run = TinyPriorRun.run(tokenizer, 8, STEPS, 5, WORKERS, 1, EVERY, 0f);
        Path dir = tmp.resolve("run");
        run.save(dir);
        codes.save(dir.resolve(PriorWorker.CODES));
        tokenizer.save(dir.resolve(PriorWorker.TOKENIZER));
        List<String> command = new ArrayList<>(KillAndResumeTest.workerCommand());
        command.addAll(List.of("--peer-timeout", Integer.toString(PEER_TIMEOUT_S)));
        List<String> messages = Collections.synchronizedList(new ArrayList<>());
        Coordinator coordinator = new Coordinator(command, dir, WORKERS, 2, messages::add);
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                coordinator.run(false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        // Given a running job with a checkpoint
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
        assertTrue(victim.isAlive(), "worker 1 finished before it could be stopped: make the run longer");

        // When worker 1 is stopped: its process and sockets stay, it neither reads nor sends
        long stoppedAt = System.nanoTime();
        Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(victim.pid())).start();
        assertEquals(0, stop.waitFor(), "kill -STOP");
        while (messages.stream().noneMatch(m -> m.contains("restarting all")) && !job.isDone()
                && System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(120)) {
            Thread.sleep(20);
        }
        double seconds = (System.nanoTime() - stoppedAt) / 1e9;
        job.get(240, TimeUnit.SECONDS);

        // Then worker 0's step failed within the peer timeout (plus start-up slack), naming worker 1 and its address
        String restart = messages.stream().filter(m -> m.contains("restarting all")).findFirst()
                .orElseThrow(() -> new AssertionError("no restart: " + messages));
        assertTrue(restart.startsWith("coordinator: worker 0 exited with code 1"), restart);
        assertTrue(restart.contains("rank 1 (world rank 1, 127.0.0.1:") && restart.contains(
                PEER_TIMEOUT_S * 1000 + " ms (the peer timeout): it is frozen, overloaded or gone"), restart);
        assertTrue(seconds >= PEER_TIMEOUT_S - 0.5 && seconds < PEER_TIMEOUT_S + 30,
                "restart " + seconds + " s after the stop; peer timeout " + PEER_TIMEOUT_S + " s");
        assertTrue(restart.contains("from the last checkpoint"), restart);
        // and the job resumed from the checkpoint and finished
        assertEquals(2, coordinator.attempts(), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.contains("resumes from the checkpoint at step")), messages.toString());
        List<String> rows = Files.readAllLines(dir.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank()).toList();
        assertEquals(STEPS, rows.size(), "one metrics row per step, none repeated after the resume");
        assertTrue(Files.isRegularFile(dir.resolve("model").resolve("model.safetensors")), "final model written");
        assertTrue(!victim.isAlive(), "the stopped worker was killed");
    }
}
