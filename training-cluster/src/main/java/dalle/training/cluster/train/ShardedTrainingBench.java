package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.ClusterSecret;
import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.comm.CollectivesBench;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.comm.TcpCollectives;
import dalle.training.cluster.comm.TcpSettings;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.io.DurableFiles;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.PriorTask;
import dalle.core.train.StepMetrics;
import dalle.core.train.TrainingListener;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.PriorConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Step time of sharded training with W in-process workers against one worker, same global batch,
 * same model (the tiny prior on codes of an untrained tiny dVAE), in one run. The first steps are
 * warm-up and not timed; the median step time of the rest is reported. A step is an update as the
 * trainer runs it between checkpoints (metrics row included); the checkpoint that ends a session is
 * not part of any step.
 *
 * <p>Workers here are threads of one JVM, which take turns at forward + backward (DJL's one
 * GradientCollector per JVM), so W = 4 measures the cost the sharding adds (all-gather,
 * reduce-scatter, per-worker dispatch of smaller batches) rather than a parallel speed-up. Their
 * collectives run in-process (queues) or, with {@link Transport#TCP}, over each worker's own loopback
 * TCP sockets, as worker processes' do.
 *
 * <p>Beside wall time, each step's process CPU time (every thread of this JVM) is reported: on a
 * shared machine W threads get more of the CPUs than one does, which flatters W in wall time; CPU
 * time is the work a step costs whatever else runs.
 */
public final class ShardedTrainingBench {

    private static final int WARMUP = 3;

    private ShardedTrainingBench() {}

    /** Median seconds of one step: wall time and this process's CPU time. */
    public record StepTime(double wall, double cpu) {}

    /** Prints the comparison to {@code out}; returns the median step times of {1 worker, W workers}. */
    /** How the W workers' collectives travel: in-memory queues, or each worker's own loopback TCP sockets. */
    public enum Transport { INPROCESS, TCP }

    public static StepTime[] run(PrintWriter out, int workers, int batch, int steps, Transport transport)
            throws IOException {
        DvaeConfig dc = DvaeConfig.tiny();
        ShapesDataset shapes = ShapesDataset.train(1, dc.imageSize());
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 500; i++) {
            captions.add(shapes.caption(i).text());
        }
        BpeTokenizer tok = BpeTokenizer.train(captions, 512);
        CodeCache codes;
        try (NDManager m = NDManager.newBaseManager()) {
            codes = CodeCache.build(new Dvae(m, dc, 1), "untrained", shapes.examples(0, 256).iterator(), 256,
                    "shapes:bench", m, n -> { });
        }
        PriorConfig config = PriorTask.fit(PriorConfig.tiny(tok.vocabSize(), tok.padId()), tok, dc.codebookSize(),
                dc.gridSize());
        out.printf("bench train-sharded: tiny prior (%d layers, width %d, %d + %d tokens), global batch %d, %d timed"
                        + " steps after %d warm-up, %d cpus, libtorch threads %s, collectives %s%n", config.layers(),
                config.width(), config.textLength(), config.imageTokens(), batch, steps, WARMUP,
                Runtime.getRuntime().availableProcessors(), System.getProperty("ai.djl.pytorch.num_threads", "default"),
                transport == Transport.TCP ? "over loopback TCP" : "in-process");
        out.printf("%-28s %14s %12s %12s %12s%n", "setup", "median step s", "vs 1 worker", "CPU s/step",
                "CPU vs 1");
        out.flush();
        Path tmp = Files.createTempDirectory("dalle-bench-sharded");
        try {
            StepTime single = time(config, codes, tok, batch, steps, 1, tmp.resolve("w1"), transport);
            out.printf("%-28s %14.4f %12s %12.4f %12s%n", "1 worker (batch " + batch + ")", single.wall(), "1.00x",
                    single.cpu(), "1.00x");
            out.flush();
            StepTime sharded = time(config, codes, tok, batch, steps, workers, tmp.resolve("w" + workers), transport);
            out.printf("%-28s %14.4f %11.2fx %12.4f %11.2fx%n", workers + " sharded threads (" + batch / workers
                    + " each)", sharded.wall(), sharded.wall() / single.wall(), sharded.cpu(), sharded.cpu() / single.cpu());
            out.flush();
            return new StepTime[] {single, sharded};
        } finally {
            DurableFiles.deleteRecursively(tmp);
        }
    }

    /**
     * One session of WARMUP + steps updates; a step's time is the time between rank 0's step reports
     * (the trainer's listener), so the checkpoint a session writes when it ends is not in any step.
     */
    private static StepTime time(PriorConfig config, CodeCache codes, BpeTokenizer tok, int batch, int steps,
                                 int workers, Path out, Transport transport) {
        DistributedRun run = new DistributedRun(config, batch, WARMUP + steps, 1, new WarmupCosine(4.5e-4f, 0.05, 0.1f),
                OptimizerSettings.priorPaper(), 0.1f, workers, 1, Integer.MAX_VALUE, "fp32", 0);
        long[] wallAt = new long[WARMUP + steps + 1]; // at the report of step k
        long[] cpuAt = new long[WARMUP + steps + 1];
        TrainingListener clock = new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                wallAt[(int) m.step()] = System.nanoTime();
                cpuAt[(int) m.step()] = processCpuNanos();
            }
        };
        Function<Collectives, DistributedTrainer.Result> worker = world -> {
            Groups g = Groups.machines(world, workers);
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tok).optExchange(ReplicaExchange.exactMean(g.replica()))
                    .optListener(world.rank() == 0 ? clock : TrainingListener.NONE).build()) {
                return t.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        if (transport == Transport.INPROCESS) {
            InProcessCollectives.runOnThreads(workers, worker);
        } else {
            overTcp(workers, worker);
        }
        double[] wall = new double[steps];
        double[] cpu = new double[steps];
        for (int i = 0; i < steps; i++) {
            int k = WARMUP + 1 + i;
            wall[i] = (wallAt[k] - wallAt[k - 1]) / 1e9;
            cpu[i] = (cpuAt[k] - cpuAt[k - 1]) / 1e9;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        return new StepTime(wall[steps / 2], cpu[steps / 2]);
    }

    /** Runs {@code worker} on W threads, each with its own TCP ring endpoint on loopback; the first failure is thrown. */
    private static void overTcp(int workers, Function<Collectives, DistributedTrainer.Result> worker) {
        List<String> addresses = CollectivesBench.loopbackAddresses(workers);
        TcpSettings settings = TcpSettings.of(ClusterSecret.random());
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<DistributedTrainer.Result>> ranks = new ArrayList<>();
            for (int r = 0; r < workers; r++) {
                int rank = r;
                ranks.add(pool.submit(() -> {
                    try (Collectives world = TcpCollectives.connect(rank, addresses, settings)) {
                        return worker.apply(world);
                    }
                }));
            }
            for (Future<DistributedTrainer.Result> f : ranks) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** CPU time of every thread of this process so far. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        throw new IllegalStateException("this JVM does not report process CPU time");
    }
}
