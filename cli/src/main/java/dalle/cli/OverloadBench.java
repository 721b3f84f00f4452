package dalle.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code dalle bench overload}: how the gateway's HTTP API holds up when offered more than it can serve.
 *
 * <ol>
 *   <li>unloaded latency: sequential {@code POST /v1/images/generations} for the probe time (p50, p99);</li>
 *   <li>sustainable rate: {@code clients} closed-loop clients for the probe time (answered 200 per second);</li>
 *   <li>overload: open-loop arrivals at {@code factor} × that rate for {@code duration}, each request on its own;
 *       admitted (200) and shed (429) counted, admitted p50/p99 against the unloaded p99.</li>
 * </ol>
 * Meanwhile each service process of the stack is sampled every second: resident memory ({@code VmRSS} of
 * {@code /proc/<pid>/status}) and used heap (the {@code jvm_memory_used_bytes{area="heap"}} series of its
 * {@code /q/metrics}); the report gives first, last and max of each.
 */
final class OverloadBench {

    /** The report's numbers (also for tests). */
    record Report(double sustainableRate, double unloadedP50Ms, double unloadedP99Ms, double offeredRate,
            int sent, int admitted, int shed, int errors, double admittedP50Ms, double admittedP99Ms,
            Map<String, Memory> memory) {

        /** Admitted p99 over unloaded p99: the goal is at most 2. */
        double p99Ratio() {
            return admittedP99Ms / unloadedP99Ms;
        }
    }

    /** One process's samples (MiB): first, last, max; heap -1 when its metrics did not answer. */
    record Memory(double rssFirst, double rssLast, double rssMax, double heapFirst, double heapLast, double heapMax,
            int samples) {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final PrintWriter out;
    private final Duration probe;
    private final Duration duration;
    private final int clients;
    private final double factor;
    private final int candidates;

    OverloadBench(PrintWriter out, Duration probe, Duration duration, int clients, double factor, int candidates) {
        if (probe.toMillis() < 500 || duration.toMillis() < 500) {
            throw new IllegalArgumentException("--probe and --duration must be at least 0.5 s");
        }
        if (clients < 1) {
            throw new IllegalArgumentException("--clients must be at least 1, got " + clients);
        }
        if (!(factor > 0)) {
            throw new IllegalArgumentException("--factor must be positive, got " + factor);
        }
        if (candidates < 1 || candidates > 512) {
            throw new IllegalArgumentException("--candidates " + candidates + " is outside 1..512");
        }
        this.out = out;
        this.probe = probe;
        this.duration = duration;
        this.clients = clients;
        this.factor = factor;
        this.candidates = candidates;
    }

    /** Runs against {@code state}'s gateway and samples its services; prints and returns the report. */
    Report run(RunState state) throws Exception {
        // the stack's local API key, as dalle up keeps it (a gateway with authentication off needs none)
        java.nio.file.Path keyFile = java.nio.file.Path.of(state.dataDir()).resolve(LocalKeys.KEY_FILE);
        authorization = java.nio.file.Files.isRegularFile(keyFile)
                ? "Bearer " + LocalKeys.read(java.nio.file.Path.of(state.dataDir())) : null;
        RunState.Service gateway = state.services().stream().filter(s -> s.name().equals("gateway")).findFirst()
                .orElseThrow(() -> new IOException("the stack of " + state.dataDir() + " has no gateway"));
        URI url = URI.create(gateway.endpoints().get("http") + "/v1/images/generations");
        post(url, 0); // warm-up
        out.printf("bench overload: gateway %s, %d candidates per request, probe %.1f s, overload %.1f s at %.1fx%n",
                url, candidates, probe.toMillis() / 1e3, duration.toMillis() / 1e3, factor);
        out.flush();

        List<Double> unloaded = new ArrayList<>();
        long end = System.nanoTime() + probe.toNanos();
        int seed = 1;
        while (System.nanoTime() < end || unloaded.size() < 3) {
            long t0 = System.nanoTime();
            int code = post(url, seed++);
            if (code != 200) {
                throw new IOException("an unloaded generation answered HTTP " + code);
            }
            unloaded.add((System.nanoTime() - t0) / 1e6);
        }
        double[] u = sorted(unloaded);

        AtomicInteger done = new AtomicInteger();
        long closedStart = System.nanoTime();
        long closedEnd = closedStart + probe.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int first = 1_000_000 * (c + 1);
            Thread t = new Thread(() -> {
                int s = first;
                while (System.nanoTime() < closedEnd) {
                    try {
                        if (post(url, s++) == 200) {
                            done.incrementAndGet();
                        }
                    } catch (IOException | InterruptedException e) {
                        return;
                    }
                }
            }, "overload-closed-" + c);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        double sustainable = done.get() / ((System.nanoTime() - closedStart) / 1e9);
        if (sustainable <= 0) {
            throw new IOException("no generation was answered while measuring the sustainable rate");
        }

        double rate = factor * sustainable;
        Sampler sampler = new Sampler(state);
        ScheduledExecutorService every = Executors.newScheduledThreadPool(2);
        every.scheduleAtFixedRate(sampler::sample, 0, 1, TimeUnit.SECONDS);
        ConcurrentLinkedQueue<Double> admittedMs = new ConcurrentLinkedQueue<>();
        AtomicInteger shed = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        long interval = (long) (1e9 / rate);
        long start = System.nanoTime();
        long stop = start + duration.toNanos();
        int sent = 0;
        try {
            for (long next = start; next < stop; next += interval) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                long t0 = System.nanoTime();
                inFlight.add(HTTP.sendAsync(request(url, 10_000_000 + sent), HttpResponse.BodyHandlers.discarding())
                        .whenComplete((r, e) -> {
                            if (e == null && r.statusCode() == 200) {
                                admittedMs.add((System.nanoTime() - t0) / 1e6);
                            } else if (e == null && r.statusCode() == 429) {
                                shed.incrementAndGet();
                            } else {
                                errors.incrementAndGet();
                            }
                        }));
                sent++;
            }
            CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                    .get(10, TimeUnit.MINUTES);
        } finally {
            every.shutdownNow();
            every.awaitTermination(10, TimeUnit.SECONDS);
        }
        sampler.sample();
        double[] a = sorted(new ArrayList<>(admittedMs));
        Report report = new Report(sustainable, percentile(u, 0.5), percentile(u, 0.99), rate, sent, a.length,
                shed.get(), errors.get(), a.length == 0 ? Double.NaN : percentile(a, 0.5),
                a.length == 0 ? Double.NaN : percentile(a, 0.99), sampler.memory());
        print(report, unloaded.size());
        return report;
    }

    private void print(Report r, int unloadedCount) {
        out.printf("unloaded (sequential, %d): p50 %.0f ms, p99 %.0f ms%n", unloadedCount, r.unloadedP50Ms(),
                r.unloadedP99Ms());
        out.printf("sustainable rate (%d closed-loop clients): %.2f req/s%n", clients, r.sustainableRate());
        out.printf("offered %.2f req/s for %.1f s: sent %d, admitted %d, shed (429) %d, errors %d%n",
                r.offeredRate(), duration.toMillis() / 1e3, r.sent(), r.admitted(), r.shed(), r.errors());
        out.printf("admitted latency: p50 %.0f ms, p99 %.0f ms; p99 / unloaded p99 = %.2fx (goal <= 2x)%n",
                r.admittedP50Ms(), r.admittedP99Ms(), r.p99Ratio());
        out.printf("%-10s %8s %8s %8s %9s %9s %9s %7s%n", "process", "rss0 MiB", "rss1", "rss max", "heap0 MiB",
                "heap1", "heap max", "samples");
        r.memory().forEach((name, m) -> out.printf("%-10s %8.0f %8.0f %8.0f %9.0f %9.0f %9.0f %7d%n", name,
                m.rssFirst(), m.rssLast(), m.rssMax(), m.heapFirst(), m.heapLast(), m.heapMax(), m.samples()));
        out.flush();
    }

    private volatile String authorization;

    private int post(URI url, int seed) throws IOException, InterruptedException {
        return HTTP.send(request(url, seed), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private HttpRequest request(URI url, int seed) {
        String body = "{\"prompt\":\"a small red circle above a blue square\",\"n\":1,\"candidates\":" + candidates
                + ",\"seed\":" + seed + "}";
        HttpRequest.Builder b = HttpRequest.newBuilder(url).header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(5)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.build();
    }

    private static double[] sorted(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    static double percentile(double[] sorted, double p) {
        return ServicesBench.percentile(sorted, p);
    }

    /** Samples RSS and used heap of each service process of the stack. */
    static final class Sampler {
        private final RunState state;
        private final Map<String, List<double[]>> samples = new LinkedHashMap<>();

        Sampler(RunState state) {
            this.state = state;
            state.services().forEach(s -> samples.put(s.name(), new ArrayList<>()));
        }

        synchronized void sample() {
            for (RunState.Service s : state.services()) {
                double rss = rssMiB(s.pid());
                if (rss < 0) {
                    continue;
                }
                samples.get(s.name()).add(new double[] {rss, heapMiB(s.endpoints().getOrDefault("management", s.endpoints().get("http")))});
            }
        }

        synchronized Map<String, Memory> memory() {
            Map<String, Memory> m = new LinkedHashMap<>();
            samples.forEach((name, list) -> {
                if (list.isEmpty()) {
                    return;
                }
                double[] first = list.get(0);
                double[] last = list.get(list.size() - 1);
                m.put(name, new Memory(first[0], last[0], list.stream().mapToDouble(x -> x[0]).max().orElse(-1),
                        first[1], last[1], list.stream().mapToDouble(x -> x[1]).max().orElse(-1), list.size()));
            });
            return m;
        }

        /** VmRSS of /proc/pid/status in MiB; -1 when the process is gone. */
        static double rssMiB(long pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"),
                        StandardCharsets.UTF_8)) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                    }
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
            return -1;
        }

        /**
         * The sum of {@code jvm_memory_used_bytes{area="heap",...}} at {@code <management>/q/metrics} (a stack
         * started before the management port: its {@code http}), in MiB; -1 if none.
         */
        static double heapMiB(String http) {
            if (http == null) {
                return -1;
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(http + "/q/metrics"))
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                double sum = 0;
                boolean any = false;
                for (String line : r.body().split("\n")) {
                    if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).strip());
                        any = true;
                    }
                }
                return any ? sum / (1024 * 1024) : -1;
            } catch (IOException | RuntimeException e) {
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
    }
}
