package dalle.cli;

import static dalle.cli.ServicesBench.percentile;

import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.SamplerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code dalle bench arrivals}: the sampler service under an open-loop Poisson arrival load, static batching (the
 * baseline) against continuous batching in the same run. Two sampler processes are started on free ports
 * ({@code dalle.sampler.batching=static} and {@code continuous}, no Kafka) and warmed up; then each round sends one
 * seeded schedule of gRPC {@code Sample} calls (exponential gaps at {@code rate} requests/s, {@code candidates}
 * each) to one and then the same schedule to the other (the order alternating by round; the idle one waits). Time
 * to codes is from a call's send to its last candidate; throughput is candidates / (first send → last candidate),
 * summed over rounds.
 */
final class ArrivalsBench {

    /** One mode's result. */
    record Result(String mode, double p50Ms, double p99Ms, double meanMs, double candidatesPerSecond, int failed) {
    }

    private final PrintWriter out;
    private final int requests;
    private final int candidates;
    private final double rate;
    private final int maxBatch;
    private final long seed;
    private final int rounds;

    ArrivalsBench(PrintWriter out, int rounds, int requests, int candidates, double rate, int maxBatch, long seed) {
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be at least 1, got " + rounds);
        }
        if (requests < 2) {
            throw new IllegalArgumentException("--requests must be at least 2, got " + requests);
        }
        if (candidates < 1 || candidates > 512) {
            throw new IllegalArgumentException("--candidates " + candidates + " is outside 1..512");
        }
        if (!(rate > 0) || rate > 10_000) {
            throw new IllegalArgumentException("--rate " + rate + " is outside (0, 10000] requests/s");
        }
        if (maxBatch < 1 || maxBatch > 4096) {
            throw new IllegalArgumentException("--max-batch " + maxBatch + " is outside 1..4096");
        }
        this.out = out;
        this.requests = requests;
        this.candidates = candidates;
        this.rate = rate;
        this.maxBatch = maxBatch;
        this.seed = seed;
        this.rounds = rounds;
    }

    int run(Path bundle, Path servicesDir, Path workDir, List<String> jvmOptions) throws Exception {
        Path jar = Services.jar(servicesDir, "sampler");
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no sampler service at " + jar.toAbsolutePath()
                    + "; build it: mvn -B -q -DskipTests -pl services/sampler -am package");
        }
        int[] text;
        try (ModelBundle b = ModelBundle.load(bundle)) {
            text = new Pipeline(b).tokenize("a small red circle above a blue square");
        }
        out.printf("bench arrivals: %d rounds of %d requests x %d candidates per batching mode, Poisson at %.2f "
                + "requests/s (%.1f candidates/s), max-batch %d, bundle %s%n", rounds, requests, candidates, rate,
                rate * candidates, maxBatch, bundle);
        out.flush();
        Path logs = workDir.resolve("bench-arrivals");
        Supervisor supervisor = new Supervisor(logs.resolve("pids"));
        List<String> modes = List.of("static", "continuous");
        List<ServiceSpec> specs = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            List<Supervisor.Started> started = new ArrayList<>();
            int base = ServicesBench.freeBase();
            for (String mode : modes) {
                int http = base + specs.size();
                int management = base + 5 + specs.size();
                int grpc = base + 10 + specs.size();
                ServiceSpec spec = spec(mode, jar, bundle, logs, jvmOptions, http, management, grpc);
                out.println("bench arrivals: starting the sampler with batching=" + mode + " (log " + spec.logFile()
                        + ")");
                specs.add(spec);
                started.add(supervisor.start(spec));
                channels.add(ManagedChannelBuilder.forAddress("localhost", grpc).usePlaintext().build());
            }
            out.flush();
            supervisor.awaitReady(started, Duration.ofMinutes(5));
            List<SamplerGrpc.SamplerStub> stubs = channels.stream().map(SamplerGrpc::newStub).toList();
            for (SamplerGrpc.SamplerStub stub : stubs) {
                warmUp(stub, text);
            }
            // rounds alternate the modes, each round one seeded schedule for both, so drift in what else runs on
            // the machine falls on both
            List<List<Double>> latencies = List.of(new ArrayList<>(), new ArrayList<>());
            double[] seconds = new double[2];
            int[] done = new int[2];
            int[] failed = new int[2];
            double[][] roundP50 = new double[2][rounds];
            double[][] roundP99 = new double[2][rounds];
            for (int round = 0; round < rounds; round++) {
                long[] sendAt = schedule(seed + round);
                for (int m = 0; m < modes.size(); m++) {
                    int mode = round % 2 == 0 ? m : modes.size() - 1 - m;
                    Segment seg = drive(stubs.get(mode), text, sendAt, seed + 1000L * round);
                    latencies.get(mode).addAll(seg.latenciesMs());
                    seconds[mode] += seg.seconds();
                    done[mode] += seg.latenciesMs().size();
                    failed[mode] += seg.failed();
                    double[] segment = sorted(seg.latenciesMs());
                    roundP50[mode][round] = percentile(segment, 0.5);
                    roundP99[mode][round] = percentile(segment, 0.99);
                    out.printf("bench arrivals: round %d %-10s p50 %8.1f ms, p99 %8.1f ms, %6.2f candidates/s%n",
                            round + 1, modes.get(mode), roundP50[mode][round], roundP99[mode][round],
                            seg.latenciesMs().size() * candidates / seg.seconds());
                    out.flush();
                }
            }
            List<Result> results = new ArrayList<>();
            for (int m = 0; m < modes.size(); m++) {
                double[] lat = sorted(latencies.get(m));
                results.add(new Result(modes.get(m), percentile(lat, 0.50), percentile(lat, 0.99),
                        Arrays.stream(lat).average().orElse(Double.NaN), done[m] * candidates / seconds[m], failed[m]));
            }
            out.println();
            out.printf("%-11s %9s %9s %9s %14s %7s%n", "batching", "p50 ms", "p99 ms", "mean ms", "candidates/s",
                    "failed");
            for (Result r : results) {
                out.printf("%-11s %9.1f %9.1f %9.1f %14.2f %7d%n", r.mode(), r.p50Ms(), r.p99Ms(), r.meanMs(),
                        r.candidatesPerSecond(), r.failed());
            }
            Result st = results.get(0);
            Result co = results.get(1);
            out.printf("ratios (static / continuous): p50 %.2fx, p99 %.2fx lower with continuous; throughput "
                    + "continuous / static %.3f%n", st.p50Ms() / co.p50Ms(), st.p99Ms() / co.p99Ms(),
                    co.candidatesPerSecond() / st.candidatesPerSecond());
            double[] p50Ratios = new double[rounds];
            double[] p99Ratios = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                p50Ratios[round] = roundP50[0][round] / roundP50[1][round];
                p99Ratios[round] = roundP99[0][round] / roundP99[1][round];
            }
            Arrays.sort(p50Ratios);
            Arrays.sort(p99Ratios);
            out.printf("per round (static / continuous, the same schedule): median p50 ratio %.2fx, median p99 ratio "
                    + "%.2fx (rounds: p99 ratios %s)%n", percentile(p50Ratios, 0.5), percentile(p99Ratios, 0.5),
                    Arrays.toString(Arrays.stream(p99Ratios).map(r -> Math.round(r * 100) / 100.0).toArray()));
            out.flush();
            return st.failed() + co.failed() == 0 ? 0 : 1;
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            supervisor.stop(specs.stream().map(ServiceSpec::name).toList(), Duration.ofSeconds(20));
        }
    }

    private ServiceSpec spec(String mode, Path jar, Path bundle, Path logs, List<String> jvmOptions, int http,
            int management, int grpc) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-Ddalle.sampler.batching=" + mode, "-Ddalle.sampler.max-batch=" + maxBatch,
                "-Ddalle.kafka.enabled=false",
                "-Dquarkus.http.port=" + http, "-Dquarkus.grpc.server.port=" + grpc,
                "-D" + Services.MANAGEMENT_PORT_PROPERTY + "=" + management,
                "-Ddalle.model=" + bundle.toAbsolutePath(), "-jar", jar.toAbsolutePath().toString()));
        return new ServiceSpec("sampler-" + mode, cmd,
                URI.create("http://localhost:" + management + Services.READY_PATH),
                logs.resolve("sampler-" + mode + ".log"), Map.of("grpc", "localhost:" + grpc));
    }

    /** Not timed: a few calls alone and two at once (first-call allocations, JIT). */
    private void warmUp(SamplerGrpc.SamplerStub stub, int[] text) throws Exception {
        for (int i = 0; i < 3; i++) {
            List<CompletableFuture<long[]>> warm = new ArrayList<>();
            for (int j = 0; j < 2; j++) {
                warm.add(call(stub, text, 1_000_000L + 10L * i + j, System.nanoTime()));
            }
            for (CompletableFuture<long[]> f : warm) {
                f.get(5, TimeUnit.MINUTES);
            }
        }
    }

    /** One schedule's calls against one sampler. */
    private record Segment(List<Double> latenciesMs, double seconds, int failed) {
    }

    private Segment drive(SamplerGrpc.SamplerStub stub, int[] text, long[] sendAt, long firstSeed) throws Exception {
        List<CompletableFuture<long[]>> calls = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            long wait = start + sendAt[i] - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            calls.add(call(stub, text, firstSeed + i, System.nanoTime()));
        }
        List<Double> ms = new ArrayList<>();
        int failed = 0;
        long last = start;
        for (CompletableFuture<long[]> f : calls) {
            try {
                long[] sentDone = f.get(10, TimeUnit.MINUTES);
                last = Math.max(last, sentDone[1]);
                ms.add((sentDone[1] - sentDone[0]) / 1e6);
            } catch (java.util.concurrent.ExecutionException e) {
                failed++;
                out.println("bench arrivals: a call failed: " + e.getCause());
            }
        }
        return new Segment(ms, (last - start) / 1e9, failed);
    }

    /** Send offsets in ns from the start: exponential gaps at {@code rate}, seeded. */
    private long[] schedule(long scheduleSeed) {
        SplittableRandom rng = new SplittableRandom(scheduleSeed);
        long[] at = new long[requests];
        double t = 0;
        for (int i = 0; i < requests; i++) {
            at[i] = (long) (t * 1e9);
            t += -Math.log(1 - rng.nextDouble()) / rate;
        }
        return at;
    }

    private static double[] sorted(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    /** Sends one Sample call; completes with {sent, last candidate's arrival} in System.nanoTime. */
    private CompletableFuture<long[]> call(SamplerGrpc.SamplerStub stub, int[] text, long requestSeed, long sentNanos) {
        SampleRequest.Builder req = SampleRequest.newBuilder().setCandidates(candidates).setSeed(requestSeed);
        for (int t : text) {
            req.addTextTokens(t);
        }
        CompletableFuture<long[]> done = new CompletableFuture<>();
        AtomicInteger got = new AtomicInteger();
        stub.sample(req.build(), new StreamObserver<SampledCandidate>() {
            @Override
            public void onNext(SampledCandidate value) {
                got.incrementAndGet();
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                if (got.get() != candidates) {
                    done.completeExceptionally(new IOException("got " + got.get() + " of " + candidates + " candidates"));
                } else {
                    done.complete(new long[] {sentNanos, System.nanoTime()});
                }
            }
        });
        return done;
    }
}
