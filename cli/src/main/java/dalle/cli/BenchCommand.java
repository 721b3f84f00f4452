package dalle.cli;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dalle bench sampler}: image tokens per second with and without the KV cache, same run;
 * {@code collectives}: loopback all-reduce; {@code services}: the Kafka path of the services against the
 * in-process Pipeline, and gRPC Generate latency ({@link ServicesBench}); {@code arrivals}: the sampler service
 * under Poisson arrivals, static vs continuous batching ({@link ArrivalsBench}); {@code powersgd} (a subcommand):
 * compressed vs exact gradient averaging.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchPowerSgdCommand.class},
        description = {"Rerunnable benchmarks. Targets: sampler, stages, stage-batches, collectives, services, arrivals, overload, train-sharded; subcommand: powersgd.",
                "sampler: image tokens/s and GFLOP/s of the prior's batched sampling loop per --paths (the first is the",
                "baseline) at each batch size and preset, on a random-weight model, and the GFLOP/s as a fraction of an",
                "fp32 matmul (512^3, and the sampler's own MLP shape) measured interleaved in the same run.",
                "stages: decode + rerank of --images images with the Pipeline's stages vs one image per forward",
                "pass, interleaved, same run; each path's GFLOP/s (work from the bundle's configs) over an fp32 512^3",
                "matmul measured on the same thread in the same run, and the time decode + rerank take at that rate.",
                "stage-batches: images/s of one dVAE decode and one reranker pass per --batch size and --preset (tiny,",
                "small), random weights; on a GPU (CUDA libtorch, see tools/bench-gpu.sh) per wall second, with memory.",
                "collectives: raw throughput of one loopback TCP stream and the aggregate of --workers concurrent",
                "streams, then ring all-reduce over loopback TCP among --workers threads (each with its own sockets)",
                "at each of --sizes: algbw, busbw = algbw*2(n-1)/n, busbw as a fraction of the one stream",
                "(busbw/raw) and of one stream's share of the concurrent aggregate (busbw/fair: the W ring links",
                "share the CPUs as the W streams do; measured right before each all-reduce, the median of the",
                "paired ratios), all in the same run.",
                "services: images/s of --requests requests x --candidates through Kafka and the five services on",
                "this machine vs the in-process Pipeline on the same requests (ratio per round, --rounds, and the median),",
                "and p50/p99 of gRPC Generate at N = 8. Uses the `dalle up` stack of --data when it runs, else starts",
                "(and stops) its own.",
                "arrivals: two sampler services (own processes, gRPC, no Kafka), static batching (the baseline) and continuous,",
                "under open-loop Poisson arrivals of --arrivals requests x --candidates at --rate requests/s; --rounds",
                "rounds, each the same seeded schedule to both in alternating order: p50/p99 time to codes, throughput,",
                "and their ratios.",
                "overload: against the gateway's HTTP API (the `dalle up` stack of --data, else its own): unloaded",
                "p50/p99 and the sustainable rate (--clients closed-loop clients, --probe seconds each), then --factor",
                "times that rate for --duration seconds: admitted vs shed (429), admitted p50/p99 vs unloaded p99,",
                "RSS and heap of each service (first/last/max).",
                "train-sharded: median step time of sharded prior training with --workers in-process workers",
                "vs one worker, same global batch (--train-batch), same run (--train-steps timed steps), their",
                "collectives in-process or over loopback TCP (--transport), in wall",
                "time and in process CPU time (the work a step costs, whatever else shares the machine)."})
final class BenchCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TARGET",
            description = "What to benchmark: sampler, stages, stage-batches, collectives, services, arrivals, overload or train-sharded (or the powersgd subcommand).")
    String target;

    @Option(names = "--preset", split = ",", defaultValue = "tiny",
            description = "sampler, stage-batches: model presets, tiny and/or small (width 512, 8 layers) (default ${DEFAULT-VALUE}; weights are random, speed does not depend on them).")
    List<String> presets;

    @Option(names = "--batch", split = ",", defaultValue = "1,8,32,64,128", description = "sampler, stage-batches: batch sizes (default ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--paths", split = ",", defaultValue = "kv-cache,fast",
            description = "sampler: decoding paths, the first is the baseline: recompute (whole prefix per token), kv-cache "
                    + "(the reference incremental path), fast (FastDecoder, what serving uses) (default ${DEFAULT-VALUE}).")
    List<String> paths;

    @Option(names = "--repeat", defaultValue = "3", description = "Timed repetitions per point; the median is reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--text-vocab", defaultValue = "1024", description = "Text vocabulary of the random model (default ${DEFAULT-VALUE}).")
    int textVocab;

    @Option(names = "--images", defaultValue = "32", description = "stages: images decoded and reranked (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--workers", defaultValue = "4", description = "collectives: ring size (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--sizes", split = ",", defaultValue = "16MiB,256MiB",
            description = "collectives: bytes per worker, with KiB/MiB/GiB suffixes (default ${DEFAULT-VALUE}).")
    List<String> sizes;

    @Option(names = "--requests", defaultValue = "20", description = "services: requests per path (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--candidates", defaultValue = "8", description = "services: candidates per request (default ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--arrivals", defaultValue = "100", description = "arrivals: requests per batching mode (default ${DEFAULT-VALUE}).")
    int arrivals;

    @Option(names = "--rounds", description = "arrivals: rounds, each one schedule per mode, alternating (default 2); "
            + "services: timed throughput rounds, each Kafka and in-process, which goes first alternating (default 3).")
    Integer rounds;

    @Option(names = "--rate", defaultValue = "2", description = "arrivals: mean requests per second, Poisson (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--max-batch", defaultValue = "64", description = "arrivals: the sampler's dalle.sampler.max-batch (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--seed", defaultValue = "1", description = "arrivals: seed of the arrival schedule and of the requests (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--top-k", defaultValue = "2", description = "services: images returned per request (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--data", defaultValue = ".dalle/run", paramLabel = "DIR",
            description = "services: the `dalle up` data folder to use when its stack runs; else the bench's own "
                    + "stack lives in DIR/bench (default ${DEFAULT-VALUE}).")
    java.nio.file.Path data;

    @picocli.CommandLine.Mixin ModelOption model;

    @Option(names = "--train-batch", defaultValue = "16", description = "train-sharded: global batch (default ${DEFAULT-VALUE}).")
    int trainBatch;

    @Option(names = "--duration", defaultValue = "180", paramLabel = "SECONDS",
            description = "overload: how long to offer --factor x the sustainable rate (default ${DEFAULT-VALUE}).")
    double durationSeconds;

    @Option(names = "--probe", defaultValue = "20", paramLabel = "SECONDS",
            description = "overload: how long each of the unloaded and the sustainable-rate probes runs (default ${DEFAULT-VALUE}).")
    double probeSeconds;

    @Option(names = "--clients", defaultValue = "4",
            description = "overload: closed-loop clients measuring the sustainable rate (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--factor", defaultValue = "2",
            description = "overload: offered rate as a multiple of the sustainable rate (default ${DEFAULT-VALUE}).")
    double factor;

    @Option(names = "--train-steps", defaultValue = "10", description = "train-sharded: timed steps (default ${DEFAULT-VALUE}).")
    int trainSteps;

    @Option(names = "--transport", defaultValue = "inprocess", paramLabel = "inprocess|tcp",
            description = "train-sharded: the workers' collectives in-process or over loopback TCP (default ${DEFAULT-VALUE}).")
    String transport;

    private int trainSharded() {
        dalle.training.cluster.train.ShardedTrainingBench.Transport t = switch (transport) {
            case "inprocess" -> dalle.training.cluster.train.ShardedTrainingBench.Transport.INPROCESS;
            case "tcp" -> dalle.training.cluster.train.ShardedTrainingBench.Transport.TCP;
            default -> throw new IllegalArgumentException("--transport must be inprocess or tcp, got '" + transport + "'");
        };
        try {
            dalle.training.cluster.train.ShardedTrainingBench.run(spec.commandLine().getOut(), workers, trainBatch,
                    trainSteps, t);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return 0;
    }

    @Override
    public Integer call() throws Exception {
        if (target == null) {
            throw new IllegalArgumentException("name a benchmark: sampler, stages, stage-batches, collectives, services, arrivals, overload, train-sharded or powersgd");
        }
        if (repeat < 1) {
            throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
        }
        return switch (target) {
            case "sampler" -> sampler();
            case "stages" -> new StagesBench(spec.commandLine().getOut(), repeat).run(model.resolve(), images);
            case "stage-batches" -> new StageBatchBench(spec.commandLine().getOut(), repeat).run(presets, batches);
            case "collectives" -> CollectivesBenchReport.run(spec.commandLine().getOut(), workers, sizes, repeat);
            case "services" -> new ServicesBench(spec.commandLine().getOut(), requests, candidates, topK,
                    rounds == null ? 3 : rounds)
                    .run(data, model, UpCommand.SERVICES_DIR, List.of("-Xmx2g", "-Dai.djl.offline=true",
                            "-Dai.djl.pytorch.num_threads=1"));
            case "arrivals" -> new ArrivalsBench(spec.commandLine().getOut(), rounds == null ? 2 : rounds, arrivals, candidates, rate, maxBatch, seed)
                    .run(UpCommand.bundle(model, data.toAbsolutePath().normalize(), spec.commandLine().getOut()),
                            UpCommand.SERVICES_DIR, data.toAbsolutePath().normalize(), List.of("-Xmx2g",
                                    "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1"));
            case "overload" -> overload();
            case "train-sharded" -> trainSharded();
            default -> throw new IllegalArgumentException("unknown benchmark target '" + target
                    + "' (known: sampler, stages, stage-batches, collectives, services, arrivals, overload, train-sharded)");
        };
    }

    private int overload() throws Exception {
        OverloadBench bench = new OverloadBench(spec.commandLine().getOut(),
                Duration.ofMillis((long) (probeSeconds * 1000)), Duration.ofMillis((long) (durationSeconds * 1000)),
                clients, factor, candidates);
        java.nio.file.Path dir = data.toAbsolutePath().normalize();
        java.util.Optional<RunState> running = RunState.read(dir).filter(r -> r.services().stream()
                .allMatch(s -> Supervisor.probe(java.net.URI.create(s.readyUrl())).isEmpty()));
        if (running.isPresent()) {
            spec.commandLine().getOut().println("bench overload: using the running stack of " + dir);
            bench.run(running.get());
            return 0;
        }
        java.nio.file.Path bundle = UpCommand.bundle(model, dir, spec.commandLine().getOut());
        spec.commandLine().getOut().println("bench overload: starting Kafka and the five services (no running stack"
                + " in " + dir + ")...");
        spec.commandLine().getOut().flush();
        try (ServicesStack stack = ServicesStack.start(dir.resolve("bench"), bundle, UpCommand.SERVICES_DIR,
                ServicesStack.freePort(), ServicesBench.freeBase(), List.of("-Xmx2g", "-Dai.djl.offline=true",
                        "-Dai.djl.pytorch.num_threads=1"), Duration.ofMinutes(5))) {
            bench.run(stack.state());
        }
        return 0;
    }

    private int sampler() {
        return new SamplerBench(spec.commandLine().getOut(), repeat, textVocab).run(presets, batches, paths);
    }
}
