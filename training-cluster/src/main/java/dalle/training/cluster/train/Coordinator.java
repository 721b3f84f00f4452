package dalle.training.cluster.train;

import dalle.core.io.CheckpointException;
import dalle.training.cluster.comm.ClusterSecret;
import dalle.core.train.NonFiniteUpdateException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Launches the W worker processes of a distributed run on this machine, watches them, and survives
 * a worker's death: when any worker exits with a non-zero code (or is killed), the others are
 * killed too and all W restart from the last complete checkpoint, at most {@code maxRestarts} times —
 * except after {@link NonFiniteUpdateException#EXIT_CODE}, an fp32 update gone non-finite, which a
 * restart would only repeat: the run stops there.
 *
 * <p>Each attempt picks W free localhost ports for the TCP ring (rank i listens on the i-th, on the
 * loopback interface only). The coordinator draws a random {@link ClusterSecret} and hands it to its
 * workers in their environment ({@value ClusterSecret#ENV}; never on a command line): only they can
 * join the ring. Rank 0 writes to this process's stderr (copied as it comes); rank i > 0 to
 * {@code DIR/logs/worker-i.log}. A worker that fails the ring (a frozen peer: its collective times out
 * naming the peer) exits non-zero, and that is a death like any other.
 * Before a restart the checkpoint is verified (manifest + every shard's hash): a corrupt one stops
 * the run with its path and reason rather than restarting into the same failure.
 *
 * <p>A worker is launched as {@code command + [--run DIR, --rank R, --peers P, (--resume)]}: the CLI
 * passes {@code java -cp <its classpath> dalle.cli.DalleCommand train worker}, tests
 * {@code java -cp <classpath> dalle.training.cluster.train.PriorWorker}.
 */
public final class Coordinator {

    private final List<String> command;
    private final Path dir;
    private final int workers;
    private final int maxRestarts;
    private final Consumer<String> log;
    private final ClusterSecret secret = ClusterSecret.random();
    private volatile List<Process> current = List.of();
    private OutputTail rankZeroOutput;
    private int attempts;

    /**
     * @param command the worker launch prefix (program and arguments before the worker's own)
     * @param dir the run directory holding {@code run.json}, {@code codes.bin}, {@code tokenizer.json}
     * @param maxRestarts how many times the workers are restarted after a death before giving up
     * @param log where the coordinator's own messages go (one line each)
     */
    public Coordinator(List<String> command, Path dir, int workers, int maxRestarts, Consumer<String> log) {
        if (workers < 1 || maxRestarts < 0) {
            throw new IllegalArgumentException("workers " + workers + " must be positive and restarts " + maxRestarts
                    + " non-negative");
        }
        this.command = List.copyOf(command);
        this.dir = dir;
        this.workers = workers;
        this.maxRestarts = maxRestarts;
        this.log = log;
    }

    /** The worker processes of the current attempt, by rank (empty before the first launch). */
    public List<ProcessHandle> workers() {
        return current.stream().map(Process::toHandle).toList();
    }

    /** Attempts made so far (1 = no restart). */
    public int attempts() {
        return attempts;
    }

    /**
     * Runs the job to the end.
     *
     * @param resume whether the first attempt continues from the directory's last checkpoint
     * @throws IllegalStateException when workers keep dying beyond the restart budget
     * @throws CheckpointException when the checkpoint to restart from is corrupt
     */
    public void run(boolean resume) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("logs"));
        Thread killer = new Thread(this::killAll, "dalle-coordinator-shutdown");
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            boolean resumeNext = resume;
            while (true) {
                attempts++;
                if (resumeNext) {
                    ShardCheckpoint.Manifest m = ShardCheckpoint.verify(dir);
                    log.accept("coordinator: attempt " + attempts + " resumes from the checkpoint at step " + m.step());
                }
                Failure failure = attempt(resumeNext);
                if (failure == null) {
                    log.accept("coordinator: all " + workers + " workers finished" + (attempts > 1
                            ? " after " + (attempts - 1) + " restart(s)" : ""));
                    return;
                }
                String what = "worker " + failure.rank + " " + (failure.code > 128
                        ? "was killed (signal " + (failure.code - 128) + ")" : "exited with code " + failure.code)
                        + lastLine(failure.rank);
                if (failure.code == NonFiniteUpdateException.EXIT_CODE) {
                    throw new IllegalStateException("worker " + failure.rank + " stopped at an fp32 update with a"
                            + " non-finite loss or gradient (its message above" + (failure.rank > 0 ? ", or in "
                            + log(failure.rank) : "") + "); a restart from the checkpoint would repeat it");
                }
                if (attempts > maxRestarts) {
                    throw new IllegalStateException(what + "; giving up after " + maxRestarts + " restart(s)");
                }
                resumeNext = ShardCheckpoint.exists(dir);
                log.accept("coordinator: " + what + "; stopped the other workers; restarting all " + workers
                        + (resumeNext ? " from the last checkpoint" : " from the start (no checkpoint yet)")
                        + " (restart " + attempts + " of at most " + maxRestarts + ")");
            }
        } finally {
            killAll();
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook runs anyway
            }
        }
    }

    private record Failure(int rank, int code) {}

    /** One launch of all workers; null when every worker exited 0. */
    private Failure attempt(boolean resume) throws IOException, InterruptedException {
        List<String> peers = new ArrayList<>();
        for (int port : freePorts(workers)) {
            peers.add("127.0.0.1:" + port);
        }
        List<Process> procs = new ArrayList<>();
        try {
            for (int r = 0; r < workers; r++) {
                List<String> cmd = new ArrayList<>(command);
                cmd.addAll(List.of("--run", dir.toString(), "--rank", Integer.toString(r), "--peers",
                        String.join(",", peers)));
                if (resume) {
                    cmd.add("--resume");
                }
                ProcessBuilder pb = new ProcessBuilder(cmd);
                pb.environment().remove(ClusterSecret.FILE_ENV); // this job's secret, not one from elsewhere
                pb.environment().put(ClusterSecret.ENV, secret.text());
                pb.redirectErrorStream(true);
                if (r > 0) {
                    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log(r).toFile()));
                }
                Process p = pb.start();
                procs.add(p);
                if (r == 0) {
                    rankZeroOutput = new OutputTail(p.getInputStream(), System.err, "dalle-coordinator-rank0");
                    rankZeroOutput.start();
                }
            }
        } finally {
            current = List.copyOf(procs);
        }
        while (true) {
            int done = 0;
            for (int r = 0; r < procs.size(); r++) {
                Process p = procs.get(r);
                if (!p.isAlive()) {
                    int code = p.exitValue();
                    if (code != 0) {
                        killAll();
                        return new Failure(r, code);
                    }
                    done++;
                }
            }
            if (done == procs.size()) {
                return null;
            }
            Thread.sleep(50);
        }
    }

    private Path log(int rank) {
        return dir.resolve("logs").resolve("worker-" + rank + ".log");
    }

    /**
     * Where a dead worker's output is and its last line (rank 0's went to this process's stderr; the
     * others' to their log files): the reason it gave, e.g. the peer that froze.
     */
    private String lastLine(int rank) {
        String line = "";
        if (rank == 0) {
            try {
                line = rankZeroOutput == null ? "" : rankZeroOutput.lastLine(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            try {
                List<String> lines = Files.readAllLines(log(rank));
                for (int i = lines.size() - 1; i >= 0 && line.isEmpty(); i--) {
                    line = lines.get(i).strip();
                }
            } catch (IOException e) {
                // no log to quote
            }
        }
        return " (" + (rank > 0 ? "log: " + log(rank) + "; " : "") + "last line: " + (line.isEmpty() ? "none" : line)
                + ")";
    }

    /** Kills every worker of the current attempt and waits for them to go. */
    private void killAll() {
        for (Process p : current) {
            p.destroyForcibly();
        }
        for (Process p : current) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** {@code n} distinct ports free on localhost right now (bound, then released). */
    static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }
}
