package dalle.cli;

import ai.djl.ndarray.NDManager;
import dalle.core.sampling.ImageSampler;
import dalle.core.sampling.SamplingParams;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dalle bench sampler}: image tokens per second with and without the KV cache, same run;
 * {@code collectives}: loopback all-reduce; {@code services}: the Kafka path of the services against the
 * in-process Pipeline, and gRPC Generate latency ({@link ServicesBench}); {@code powersgd} (a subcommand):
 * compressed vs exact gradient averaging.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchPowerSgdCommand.class},
        description = {"Rerunnable benchmarks. Targets: sampler, collectives, services, train-sharded; subcommand: powersgd.",
                "sampler: image tokens/s of the prior's batched sampling loop, KV-cached vs full prefix",
                "recomputation (the baseline), at each batch size, on the same random-weight model in one run.",
                "collectives: raw throughput of one loopback TCP stream, then ring all-reduce over loopback TCP",
                "among --workers threads (each with its own sockets) at each of --sizes: algbw, busbw =",
                "algbw*2(n-1)/n, and busbw as a fraction of the raw stream measured in the same run.",
                "services: images/s of --requests requests x --candidates through Kafka and the five services on",
                "this machine vs the in-process Pipeline on the same requests (ratio), and p50/p99 of gRPC Generate",
                "at N = 8. Uses the `dalle up` stack of --data when it runs, else starts (and stops) its own.",
                "train-sharded: median step time of sharded prior training with --workers in-process workers",
                "vs one worker, same global batch (--train-batch), same run (--train-steps timed steps)."})
final class BenchCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TARGET",
            description = "What to benchmark: sampler, collectives, services or train-sharded (or the powersgd subcommand).")
    String target;

    @Option(names = "--preset", defaultValue = "tiny", description = "Model preset (default ${DEFAULT-VALUE}; weights are random, speed does not depend on them).")
    String preset;

    @Option(names = "--batch", split = ",", defaultValue = "1,32", description = "Batch sizes (default ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--repeat", defaultValue = "3", description = "Timed repetitions per point; the median is reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--text-vocab", defaultValue = "1024", description = "Text vocabulary of the random model (default ${DEFAULT-VALUE}).")
    int textVocab;

    @Option(names = "--workers", defaultValue = "4", description = "collectives: ring size (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--sizes", split = ",", defaultValue = "16MiB,256MiB",
            description = "collectives: bytes per worker, with KiB/MiB/GiB suffixes (default ${DEFAULT-VALUE}).")
    List<String> sizes;

    @Option(names = "--requests", defaultValue = "20", description = "services: requests per path (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--candidates", defaultValue = "8", description = "services: candidates per request (default ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--top-k", defaultValue = "2", description = "services: images returned per request (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--data", defaultValue = ".dalle/run", paramLabel = "DIR",
            description = "services: the `dalle up` data folder to use when its stack runs; else the bench's own "
                    + "stack lives in DIR/bench (default ${DEFAULT-VALUE}).")
    java.nio.file.Path data;

    @picocli.CommandLine.Mixin ModelOption model;

    @Option(names = "--train-batch", defaultValue = "16", description = "train-sharded: global batch (default ${DEFAULT-VALUE}).")
    int trainBatch;

    @Option(names = "--train-steps", defaultValue = "10", description = "train-sharded: timed steps (default ${DEFAULT-VALUE}).")
    int trainSteps;

    private int trainSharded() {
        try {
            dalle.training.cluster.train.ShardedTrainingBench.run(System.out, workers, trainBatch, trainSteps);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return 0;
    }

    @Override
    public Integer call() throws Exception {
        if (target == null) {
            throw new IllegalArgumentException("name a benchmark: sampler, collectives, services, train-sharded or powersgd");
        }
        if (repeat < 1) {
            throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
        }
        return switch (target) {
            case "sampler" -> sampler();
            case "collectives" -> CollectivesBenchReport.run(spec.commandLine().getOut(), workers, sizes, repeat);
            case "services" -> new ServicesBench(spec.commandLine().getOut(), requests, candidates, topK)
                    .run(data, model, UpCommand.SERVICES_DIR, List.of("-Xmx2g", "-Dai.djl.offline=true",
                            "-Dai.djl.pytorch.num_threads=1"));
            case "train-sharded" -> trainSharded();
            default -> throw new IllegalArgumentException("unknown benchmark target '" + target
                    + "' (known: sampler, collectives, services, train-sharded)");
        };
    }

    private int sampler() {
        PriorConfig config = switch (preset) {
            case "tiny" -> PriorConfig.tiny(textVocab, 0);
            default -> throw new IllegalArgumentException("--preset: unknown or too large for a CPU bench: " + preset);
        };
        int tokensPerCandidate = config.gridSize() * config.gridSize();
        System.out.printf("bench sampler: preset %s (%d layers, width %d, %d text + %d image tokens), %d cpus, median of %d%n",
                preset, config.layers(), config.width(), config.textLength(), tokensPerCandidate,
                Runtime.getRuntime().availableProcessors(), repeat);
        System.out.printf("%-6s %-10s %12s %14s %9s%n", "batch", "path", "seconds", "img tokens/s", "speedup");
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, config, 1);
            ImageSampler sampler = new ImageSampler(prior);
            for (int batch : batches) {
                if (batch < 1) {
                    throw new IllegalArgumentException("--batch sizes must be positive, got " + batch);
                }
                List<ImageSampler.CandidateSpec> specs = specs(config, batch);
                sampler.sample(specs.subList(0, 1), true); // warm-up: first-call allocations, kernel selection
                sampler.sample(specs.subList(0, 1), false);
                double uncached = median(sampler, specs, false);
                double cached = median(sampler, specs, true);
                double tokens = (double) batch * tokensPerCandidate;
                System.out.printf("%-6d %-10s %12.3f %14.1f %9s%n", batch, "recompute", uncached, tokens / uncached, "1.00x");
                System.out.printf("%-6d %-10s %12.3f %14.1f %8.2fx%n", batch, "kv-cache", cached, tokens / cached,
                        uncached / cached);
            }
        }
        return 0;
    }

    private static List<ImageSampler.CandidateSpec> specs(PriorConfig config, int batch) {
        SplittableRandom rng = new SplittableRandom(7);
        int[] text = new int[config.textLength()];
        for (int i = 0; i < text.length; i++) {
            text[i] = i < 8 ? 1 + rng.nextInt(config.textVocab() - 1) : config.padTokenId();
        }
        List<ImageSampler.CandidateSpec> specs = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            specs.add(new ImageSampler.CandidateSpec(text, 42, i, SamplingParams.DEFAULT));
        }
        return specs;
    }

    private double median(ImageSampler sampler, List<ImageSampler.CandidateSpec> specs, boolean cache) {
        double[] t = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            sampler.sample(specs, cache);
            t[r] = (System.nanoTime() - t0) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[repeat / 2];
    }
}
