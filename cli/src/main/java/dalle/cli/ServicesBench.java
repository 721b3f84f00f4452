package dalle.cli;

import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.GenerationRequest;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.Parsed;
import dalle.services.common.Topics;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerationResult;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
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
 * {@code Generate} (p50/p99 of sequential calls). Uses the {@code dalle up} stack of {@code --data} when it runs,
 * else starts one of its own on free ports and stops it afterwards.
 *
 * <p>Images/s counts candidate images (each sampled, decoded and scored): requests × candidates / seconds, from
 * the first request written to the last result read (Kafka), or around the sequential generations (in-process).
 */
final class ServicesBench {

    private final PrintWriter out;
    private final int requests;
    private final int candidates;
    private final int topK;

    ServicesBench(PrintWriter out, int requests, int candidates, int topK) {
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
            String served = stub.withDeadlineAfter(5, TimeUnit.MINUTES).generate(GenerateRequest.newBuilder()
                    .setCaption(caption).setCandidates(candidates).setTopK(topK).setSeed(0).build())
                    .getModel().getBundleVersion();
            if (!served.equals(b.version())) {
                throw new DalleCommand.UserError("the services serve bundle " + served + " but the in-process side "
                        + "loaded " + b.version() + " from " + bundle + ": pass the served bundle with --model");
            }
            kafka(bootstrap, run + "-warm", 1, caption);

            double kafkaSeconds = kafka(bootstrap, run, requests, caption);
            long t0 = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                pipeline.generate(GenerationRequest.of(caption, candidates, topK, i));
            }
            double localSeconds = (System.nanoTime() - t0) / 1e9;

            double[] latency = new double[requests];
            for (int i = 0; i < requests; i++) {
                long s = System.nanoTime();
                stub.withDeadlineAfter(5, TimeUnit.MINUTES).generate(GenerateRequest.newBuilder().setCaption(caption)
                        .setCandidates(8).setTopK(Math.min(topK, 8)).setSeed(i).build());
                latency[i] = (System.nanoTime() - s) / 1e6;
            }
            Arrays.sort(latency);

            int images = requests * candidates;
            out.printf("bundle %s; %d requests x %d candidates (top %d); %d cpus; services and client on this "
                    + "machine%n", b.version(), requests, candidates, topK, Runtime.getRuntime().availableProcessors());
            out.printf("%-34s %8s %8s %9s %9s%n", "path", "requests", "images", "seconds", "images/s");
            out.printf("%-34s %8d %8d %9.2f %9.1f%n", "in-process Pipeline (sequential)", requests, images,
                    localSeconds, images / localSeconds);
            out.printf("%-34s %8d %8d %9.2f %9.1f%n", "Kafka, 5 services (all at once)", requests, images,
                    kafkaSeconds, images / kafkaSeconds);
            out.printf("Kafka / in-process: %.2fx%n", localSeconds / kafkaSeconds);
            out.printf("gRPC Generate, N=8, %d sequential calls: p50 %.0f ms, p99 %.0f ms (min %.0f, max %.0f)%n",
                    requests, percentile(latency, 0.50), percentile(latency, 0.99), latency[0],
                    latency[latency.length - 1]);
            out.flush();
            return 0;
        } finally {
            channel.shutdownNow();
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
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
