package dalle.cli;

import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.GenerationRequest;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.Parsed;
import dalle.services.common.Topics;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationResult;
import dalle.v1.Hop;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code dalle bench services}: the same requests through the Kafka path of the five services on this machine
 * and through the in-process {@link Pipeline}, in one run (images/s and their ratio), then the latency of gRPC
 * {@code Generate} on the gateway's two synchronous paths (thin: the decoder scores through the reranker; relay:
 * the gateway calls Decode then Score) against the in-process Pipeline, interleaved (p50/p99 and ratios), with the
 * median of every hop the responses report (round trip, the callee's own time, and what the hop added). Uses the {@code dalle up} stack of {@code --data} when it runs,
 * else starts one of its own on free ports and stops it afterwards.
 *
 * <p>Images/s counts candidate images (each sampled, decoded and scored): requests × candidates / seconds, from
 * the first request written to the last result read (Kafka), or around the sequential generations (in-process);
 * both after an untimed warm-up of the same work (one round of the requests through Kafka, one generation in-process),
 * then in {@code rounds} timed rounds, each Kafka and in-process in turn, which goes first alternating: each round's
 * ratio, and the median. The services' JIT keeps warming over the first rounds of a fresh stack (on a fresh stack
 * here, Kafka / in-process went 0.97x, 1.23x, 1.46x over three runs), so the rounds show where it is.
 * The synchronous paths are each warmed up with one untimed call before theirs are timed.
 */
final class ServicesBench {

    /** The gateway's synchronous paths, by their {@code dalle-sync-path} header value. */
    static final List<String> SYNC_PATHS = List.of("thin", "relay");
    private static final String IN_PROCESS = "in-process";
    private static final io.grpc.Metadata.Key<String> SYNC_PATH_HEADER = io.grpc.Metadata.Key.of("dalle-sync-path",
            io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    private final PrintWriter out;
    private final int requests;
    private final int candidates;
    private final int topK;
    private final int rounds;

    ServicesBench(PrintWriter out, int requests, int candidates, int topK, int rounds) {
        if (requests < 1) {
            throw new IllegalArgumentException("--requests must be at least 1, got " + requests);
        }
        if (candidates < 1 || candidates > 512) {
            throw new IllegalArgumentException("--candidates " + candidates + " is outside 1..512");
        }
        if (topK < 1 || topK > candidates) {
            throw new IllegalArgumentException("--top-k " + topK + " is outside 1.." + candidates);
        }
        this.out = out;
        this.requests = requests;
        this.candidates = candidates;
        this.topK = topK;
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be at least 1, got " + rounds);
        }
        this.rounds = rounds;
    }

    /** Runs against the stack of {@code dataDir} if it runs, else a stack started (and stopped) here. */
    int run(Path dataDir, ModelOption model, Path servicesDir, List<String> jvmOptions) throws Exception {
        Optional<RunState> running = RunState.read(dataDir.toAbsolutePath().normalize())
                .filter(r -> r.services().stream().allMatch(s -> Supervisor.probe(java.net.URI.create(s.readyUrl()))
                        .isEmpty()));
        Path bundle = UpCommand.bundle(model, dataDir.toAbsolutePath().normalize(), out);
        if (running.isPresent()) {
            RunState r = running.get();
            String grpc = r.services().stream().filter(s -> s.name().equals("gateway")).findFirst()
                    .orElseThrow(() -> new IOException("the running stack has no gateway")).endpoints().get("grpc");
            out.println("bench services: using the running stack of " + r.dataDir());
            return measure(bundle, r.kafka().bootstrap(), grpc, LocalKeys.read(Path.of(r.dataDir())));
        }
        out.println("bench services: starting Kafka and the five services (no running stack in " + dataDir + ")...");
        out.flush();
        try (ServicesStack stack = ServicesStack.start(dataDir.resolve("bench"), bundle, servicesDir,
                ServicesStack.freePort(), freeBase(), jvmOptions, Duration.ofMinutes(5))) {
            return measure(bundle, stack.bootstrap(), "localhost:" + stack.grpcPort("gateway"), stack.apiKey());
        }
    }

    static int freeBase() throws IOException {
        for (int base = 28_000; base < 60_000; base += 100) {
            boolean free = true;
            for (int p = base; p < base + Services.PORT_SPAN && free; p++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                    s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), p));
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no " + Services.PORT_SPAN + " free ports found");
    }

    private int measure(Path bundle, String bootstrap, String gatewayGrpc, String apiKey) throws Exception {
        String caption = "a small red circle above a blue square";
        String run = Long.toString(System.currentTimeMillis(), 36);
        int colon = gatewayGrpc.lastIndexOf(':');
        ManagedChannel channel = ManagedChannelBuilder.forAddress(gatewayGrpc.substring(0, colon),
                Integer.parseInt(gatewayGrpc.substring(colon + 1))).usePlaintext().maxInboundMessageSize(64 << 20)
                .build();
        try (ModelBundle b = ModelBundle.load(bundle)) {
            Pipeline pipeline = new Pipeline(b);
            io.grpc.Metadata key = new io.grpc.Metadata();
            key.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
                    "Bearer " + apiKey);
            var stub = GatewayGrpc.newBlockingStub(channel)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(key));
            // warm-up of every path (first-call allocations, JIT), not timed
            pipeline.generate(GenerationRequest.of(caption, candidates, topK, 0));
            for (String path : SYNC_PATHS) {
                String served = generate(stub, path, caption, candidates, topK, 0).getModel().getBundleVersion();
                if (!served.equals(b.version())) {
                    throw new DalleCommand.UserError("the services serve bundle " + served + " but the in-process "
                            + "side loaded " + b.version() + " from " + bundle + ": pass the served bundle with --model");
                }
            }
            // the Kafka path's warm-up is one untimed round of the measured load: its batches (up to 64 candidates
            // in the sampler, a poll's records in the decoder and reranker) are shapes one request never runs, and
            // a fresh stack's first round ran at half its steady rate (0.47x and 0.59x in-process, then 0.99x warm)
            kafka(bootstrap, run + "-warm", requests, caption);

            double[] kafkaSeconds = new double[rounds];
            double[] localSeconds = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                if (r % 2 == 0) {
                    kafkaSeconds[r] = kafka(bootstrap, run + "-" + r, requests, caption);
                    localSeconds[r] = inProcess(pipeline, caption);
                } else {
                    localSeconds[r] = inProcess(pipeline, caption);
                    kafkaSeconds[r] = kafka(bootstrap, run + "-" + r, requests, caption);
                }
            }

            // gRPC Generate of N=8 on the thin path (the gateway's default) and on the relay path (header
            // dalle-sync-path: relay), and the in-process Pipeline on the same requests, interleaved
            int n = 8;
            int k = Math.min(topK, n);
            Map<String, double[]> latency = new LinkedHashMap<>();
            Map<String, Map<String, List<long[]>>> hops = new LinkedHashMap<>();
            for (String path : SYNC_PATHS) {
                latency.put(path, new double[requests]);
                hops.put(path, new LinkedHashMap<>());
            }
            latency.put(IN_PROCESS, new double[requests]);
            List<long[]> stages = new ArrayList<>(); // in-process tokenize, sample, decode, rerank (µs)
            List<String> order = new ArrayList<>(latency.keySet());
            for (int i = 0; i < requests; i++) {
                for (int j = 0; j < order.size(); j++) {
                    String path = order.get((i + j) % order.size());
                    long s = System.nanoTime();
                    if (path.equals(IN_PROCESS)) {
                        var t = pipeline.generate(GenerationRequest.of(caption, n, k, i)).timings();
                        stages.add(new long[] {(long) (t.tokenizeMs() * 1e3), (long) (t.sampleMs() * 1e3),
                                (long) (t.decodeMs() * 1e3), (long) (t.rerankMs() * 1e3)});
                    } else {
                        GenerateResponse r = generate(stub, path, caption, n, k, i);
                        for (Hop hop : r.getTimings().getHopsList()) {
                            hops.get(path).computeIfAbsent(hop.getName(), x -> new ArrayList<>())
                                    .add(new long[] {hop.getRoundTripUs(), hop.getServerUs()});
                        }
                    }
                    latency.get(path)[i] = (System.nanoTime() - s) / 1e6;
                }
            }
            latency.values().forEach(Arrays::sort);

            int images = requests * candidates;
            out.printf("bundle %s; %d requests x %d candidates (top %d); %d cpus; services and client on this "
                    + "machine%n", b.version(), requests, candidates, topK, Runtime.getRuntime().availableProcessors());
            out.printf("%-6s %-34s %8s %8s %9s %9s%n", "round", "path", "requests", "images", "seconds", "images/s");
            double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                out.printf("%-6d %-34s %8d %8d %9.2f %9.1f%n", r + 1, "in-process Pipeline (sequential)", requests,
                        images, localSeconds[r], images / localSeconds[r]);
                out.printf("%-6d %-34s %8d %8d %9.2f %9.1f%n", r + 1, "Kafka, 5 services (all at once)", requests,
                        images, kafkaSeconds[r], images / kafkaSeconds[r]);
                ratios[r] = localSeconds[r] / kafkaSeconds[r];
            }
            StringBuilder each = new StringBuilder();
            for (double ratio : ratios) {
                each.append(each.length() == 0 ? "" : ", ").append(String.format("%.2fx", ratio));
            }
            double[] sortedRatios = ratios.clone();
            Arrays.sort(sortedRatios);
            out.printf("Kafka / in-process: %.2fx (median of %d rounds: %s)%n", percentile(sortedRatios, 0.50), rounds,
                    each);
            double local = percentile(latency.get(IN_PROCESS), 0.50);
            out.printf("Generate, N=%d, %d sequential requests per path, interleaved: p50 (p99)%n", n, requests);
            out.printf("  %-28s %6.0f ms (%4.0f)%n", "in-process Pipeline", local,
                    percentile(latency.get(IN_PROCESS), 0.99));
            for (String path : SYNC_PATHS) {
                double[] l = latency.get(path);
                out.printf("  %-28s %6.0f ms (%4.0f)  %.2fx in-process%n", "gRPC Generate, " + path + " path",
                        percentile(l, 0.50), percentile(l, 0.99), percentile(l, 0.50) / local);
            }
            out.printf("gRPC Generate thin / relay (p50): %.2fx%n", percentile(latency.get("thin"), 0.50)
                    / percentile(latency.get("relay"), 0.50));
            out.printf("in-process stages (medians, ms): tokenize %.1f, sample %.1f, decode %.1f, rerank %.1f%n",
                    median(stages, 0) / 1e3, median(stages, 1) / 1e3, median(stages, 2) / 1e3,
                    median(stages, 3) / 1e3);
            out.printf("hops (medians over the calls, ms): round trip = callee's own time + what the hop added%n");
            out.printf("  %-6s %-38s %9s %9s %9s%n", "path", "hop", "round", "callee", "added");
            for (String path : SYNC_PATHS) {
                double added = 0;
                for (Map.Entry<String, List<long[]>> e : hops.get(path).entrySet()) {
                    double rt = median(e.getValue(), 0);
                    double server = median(e.getValue(), 1);
                    boolean reported = e.getValue().stream().anyMatch(v -> v[1] > 0);
                    out.printf("  %-6s %-38s %9.1f %9s %9s%n", path, e.getKey(), rt / 1e3,
                            reported ? String.format("%.1f", server / 1e3) : "-",
                            reported ? String.format("%.1f", (rt - server) / 1e3) : "-");
                    if (reported) {
                        added += rt - server;
                    }
                }
                out.printf("  %-6s %-38s %9s %9s %9.1f%n", path, "sum added by the reported hops", "", "", added / 1e3);
            }
            out.flush();
            return 0;
        } finally {
            channel.shutdownNow();
        }
    }

    /** Seconds of {@code requests} sequential in-process generations (seeds 0..requests−1). */
    private double inProcess(Pipeline pipeline, String caption) {
        long t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            pipeline.generate(GenerationRequest.of(caption, candidates, topK, i));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** One gRPC Generate on the gateway's synchronous {@code path} (the dalle-sync-path header). */
    private static GenerateResponse generate(GatewayGrpc.GatewayBlockingStub stub, String path, String caption, int n,
                                             int k, long seed) {
        io.grpc.Metadata h = new io.grpc.Metadata();
        h.put(SYNC_PATH_HEADER, path);
        return stub.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h))
                .withDeadlineAfter(5, TimeUnit.MINUTES)
                .generate(GenerateRequest.newBuilder().setCaption(caption).setCandidates(n).setTopK(k).setSeed(seed)
                        .build());
    }

    /** The median of column {@code c} of the rows. */
    static double median(List<long[]> rows, int c) {
        double[] v = rows.stream().mapToDouble(r -> r[c]).sorted().toArray();
        return percentile(v, 0.50);
    }

    /** Nearest-rank percentile of sorted values; NaN for none. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    /** Writes {@code count} requests at once and waits for all their results; seconds from first write to last. */
    private double kafka(String bootstrap, String run, int count, String caption) throws Exception {
        // The bench's own local broker (LocalStack): PLAINTEXT on 127.0.0.1, so KafkaSecurity.PLAINTEXT, no keys.
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer());
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            String topic = Topics.GENERATION_RESULTS.name();
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
            consumer.assign(parts);
            consumer.seekToEnd(parts);
            parts.forEach(consumer::position); // fix the start before writing
            Set<String> waiting = new HashSet<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                String id = "bench-" + run + "-" + i;
                waiting.add(id);
                producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), id,
                        dalle.v1.GenerationRequest.newBuilder().setRequestId(id).setCaption(caption)
                                .setCandidates(candidates).setTopK(topK).setSeed(i).build().toByteArray()));
            }
            producer.flush();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (!waiting.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(waiting.size() + " of " + count + " results did not arrive within 10 min");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (waiting.remove(r.key()) && Topics.GENERATION_RESULTS.parse(r.value())
                            instanceof Parsed.Ok<GenerationResult> ok && ok.value().hasError()) {
                        throw new IOException("request " + r.key() + " failed: " + ok.value().getError());
                    }
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }
}
