package dalle.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.ServicesStack;
import dalle.services.common.Topics;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationRequest;
import dalle.v1.GenerationResult;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * SIGKILL in the middle of the work, one scenario per process: each stage, the gateway and the broker. In each,
 * a batch client trickles {@value #DEFAULT_REQUESTS} requests onto generation-requests and 20 gRPC
 * {@code Gateway.Generate} calls run; once the killed process has uncommitted input it is killed with SIGKILL and
 * started again. The test proves that uncommitted work existed at the kill: the process is frozen (SIGSTOP) at a
 * moment when its consumer group's committed offsets are behind its input's log end, so that it cannot commit
 * before the SIGKILL (for the broker, which holds the offsets, the services are frozen instead, for the instant of
 * the kill). Then every Kafka request has exactly one result on generation-results (read_committed), none failed,
 * and every gRPC call succeeded or failed with a clear status no later than its deadline.
 *
 * <p>CI-sized: 2 candidates per request on the tiny e2e bundle. {@code -Ddalle.chaos.requests},
 * {@code -Ddalle.chaos.grpc-calls} and {@code -Ddalle.chaos.candidates} make it heavier. The table of
 * fault → sent / answered / duplicated / time to recover is printed at the end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChaosTest {

    static final int DEFAULT_REQUESTS = 100;
    static final int REQUESTS = Integer.getInteger("dalle.chaos.requests", DEFAULT_REQUESTS);
    static final int GRPC_CALLS = Integer.getInteger("dalle.chaos.grpc-calls", 20);
    static final int CANDIDATES = Integer.getInteger("dalle.chaos.candidates", 2);
    static final Duration GRPC_DEADLINE = Duration.ofSeconds(60);
    /** Most rounds of {@link #GRPC_CALLS} calls a scenario starts to have one in flight at the kill. */
    static final int CALL_ROUNDS = 3;
    static final Duration RESULTS_TIMEOUT = Duration.ofMinutes(4);
    static final Duration SETTLE = Duration.ofSeconds(3);
    /** Codes a gRPC call may end with when a process on its path dies: clear, retryable statuses. */
    static final Set<Status.Code> CLEAR = Set.of(Status.Code.OK, Status.Code.UNAVAILABLE,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED, Status.Code.ABORTED,
            Status.Code.CANCELLED);

    /** Each killed process: the consumer group whose offsets show its uncommitted work, and that group's input. */
    record Target(String name, String group, String input) {
    }

    static final Map<String, Target> TARGETS = Map.of(
            "tokenizer", new Target("tokenizer", "dalle-tokenizer", Topics.GENERATION_REQUESTS.name()),
            "sampler", new Target("sampler", "dalle-sampler", Topics.TOKENIZED_REQUESTS.name()),
            "decoder", new Target("decoder", "dalle-decoder", Topics.IMAGE_CODES.name()),
            "reranker", new Target("reranker", "dalle-reranker", Topics.CANDIDATE_IMAGES.name()),
            "gateway", new Target("gateway", "dalle-fan-in", Topics.CANDIDATE_SCORES.name()));

    /** One row of the printed table. */
    record Row(String fault, int sent, int answered, int duplicated, int failed, long uncommitted,
            int grpcInFlight, Map<String, Integer> grpcCodes, double maxGrpcSeconds, double restartSeconds,
            double grpcBackSeconds, double allAnsweredSeconds) {
    }

    static final List<Row> ROWS = new CopyOnWriteArrayList<>();

    static ServicesStack stack;
    static ManagedChannel gateway;
    static KafkaProducer<String, byte[]> producer;
    static Admin admin;

    @BeforeAll
    static void startStack() throws Exception {
        Path dir = Stack.freshDir("chaos");
        Path bundle = dir.resolve("bundle");
        E2eBundle.write(bundle);
        // all 20 gRPC calls admitted and running at once (no latency-driven shedding: this suite is about faults,
        // `dalle bench overload` about admission), so that they are in flight at each kill
        stack = Stack.start(dir.resolve("run"), bundle, Map.of(
                "sampler", List.of("-Ddalle.kafka.max-poll-records=2"),
                "gateway", List.of("-Ddalle.gateway.concurrency=" + GRPC_CALLS,
                        "-Ddalle.gateway.latency-tolerance=1000")));
        gateway = ManagedChannelBuilder.forAddress("localhost", stack.grpcPort("gateway")).usePlaintext()
                .maxInboundMessageSize(64 << 20).intercept(EndToEndTest.withKey(stack.apiKey())).build();
        producer = Topic.producer(stack.bootstrap());
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
        // every group has committed once, and the gRPC path is warm
        String warm = "chaos-warm-up";
        producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), warm, request(warm, 0))).get();
        awaitGrpc(Duration.ofMinutes(2));
        Map<String, List<ConsumerRecord<String, byte[]>>> r = Topic.read(stack.bootstrap(),
                Topics.GENERATION_RESULTS.name(), Set.of(warm), RESULTS_TIMEOUT, Duration.ZERO);
        assertTrue(r.containsKey(warm), "the warm-up request was answered");
    }

    @AfterAll
    static void stopStack() throws Exception {
        printTable();
        if (admin != null) {
            admin.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (gateway != null) {
            gateway.shutdownNow();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void tokenizerKilled() throws Exception {
        scenario("tokenizer");
    }

    @Test
    @Order(2)
    void samplerKilled() throws Exception {
        scenario("sampler");
    }

    @Test
    @Order(3)
    void decoderKilled() throws Exception {
        scenario("decoder");
    }

    @Test
    @Order(4)
    void rerankerKilled() throws Exception {
        scenario("reranker");
    }

    @Test
    @Order(5)
    void gatewayKilled() throws Exception {
        scenario("gateway");
    }

    @Test
    @Order(6)
    void brokerKilled() throws Exception {
        scenario("broker");
    }

    private void scenario(String fault) throws Exception {
        awaitGrpc(Duration.ofMinutes(2)); // the previous scenario's restart is complete for clients too
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            ids.add("chaos-" + fault + "-" + i);
        }
        Results results = new Results(Set.copyOf(ids));
        results.start();
        // Given a batch client trickling requests onto generation-requests (in flight at the kill)
        AtomicBoolean sending = new AtomicBoolean(true);
        Thread client = new Thread(() -> {
            for (int i = 0; i < ids.size(); i++) {
                try {
                    Topic.send(producer, Topics.GENERATION_REQUESTS.name(), ids.get(i), request(ids.get(i), i));
                    Thread.sleep(15);
                } catch (InterruptedException e) {
                    return;
                }
                // while the broker is down a send waits for it (delivery.timeout.ms, 2 min): never sent twice
            }
            sending.set(false);
        }, "chaos-client");
        client.start();
        try {
            // and, once the pipeline works on them, 20 gRPC generations
            awaitSomeWork(fault, ids);
            List<Call> calls = new CopyOnWriteArrayList<>(startCalls(0));
            // When the process is killed while its consumer group has uncommitted input
            Target target = TARGETS.get(fault);
            long uncommitted;
            long killedAt;
            int inFlight;
            if (target != null) {
                ProcessHandle process = stack.process(fault).orElseThrow();
                uncommitted = freezeWithLag(List.of(process), target, calls);
                inFlight = (int) calls.stream().filter(c -> !c.future().isDone()).count();
                killedAt = System.nanoTime();
                stack.kill(fault); // SIGKILL: a frozen process dies the same way, with nothing flushed or committed
            } else {
                List<ProcessHandle> services = new ArrayList<>();
                for (String s : ServicesStack.SERVICES) {
                    services.add(stack.process(s).orElseThrow());
                }
                uncommitted = freezeWithLag(services, null, calls);
                inFlight = (int) calls.stream().filter(c -> !c.future().isDone()).count();
                killedAt = System.nanoTime();
                stack.killBroker();
                signal("CONT", services);
            }
            int answeredAtKill = results.answered();
            // Then it is started again
            if (target != null) {
                stack.restart(fault);
            } else {
                stack.restartBroker();
            }
            double restartSeconds = seconds(System.nanoTime() - killedAt);
            double grpcBack = seconds(awaitGrpc(Duration.ofMinutes(3)) - killedAt);

            // every gRPC call ended by its deadline, with a result or a clear status
            Map<String, Integer> codes = new TreeMap<>();
            Map<String, String> firstError = new TreeMap<>();
            double maxCall = 0;
            for (Call c : calls) {
                Status.Code code = c.outcome();
                codes.merge(code.name(), 1, Integer::sum);
                if (code != Status.Code.OK) {
                    firstError.putIfAbsent(code.name(), c.error());
                }
                maxCall = Math.max(maxCall, c.seconds());
                assertTrue(CLEAR.contains(code), fault + ": gRPC call " + c.index() + " ended " + code + ": "
                        + c.error());
                assertTrue(c.seconds() <= GRPC_DEADLINE.toSeconds() + 5, fault + ": gRPC call " + c.index()
                        + " took " + c.seconds() + " s, past its deadline");
            }
            // every Kafka request has exactly one result, and none failed
            client.join(TimeUnit.MINUTES.toMillis(3));
            assertTrue(!sending.get(), fault + ": the client could not send every request");
            results.awaitAll(RESULTS_TIMEOUT);
            Map<String, List<GenerationResult>> got = results.stop();
            double allAnswered = seconds(results.lastArrival() - killedAt);
            int duplicated = (int) got.values().stream().filter(l -> l.size() > 1).count();
            List<String> failed = got.values().stream().flatMap(List::stream).filter(GenerationResult::hasError)
                    .map(r -> r.getRequestId() + ": " + r.getError()).toList();
            ROWS.add(new Row(fault, ids.size(), got.size(), duplicated, failed.size(), uncommitted, inFlight, codes,
                    maxCall, restartSeconds, grpcBack, allAnswered));
            System.out.printf("chaos %s: %d answered before the kill, %d uncommitted records at it; gRPC errors: %s%n",
                    fault, answeredAtKill, uncommitted, firstError);

            assertTrue(uncommitted > 0, fault + ": no uncommitted work at the kill, so it proved nothing");
            assertTrue(inFlight > 0, fault + ": no gRPC call was in flight at the kill");
            List<String> missing = ids.stream().filter(id -> !got.containsKey(id)).toList();
            assertTrue(missing.isEmpty(), fault + ": no result for " + missing.size() + ": " + missing);
            assertEquals(0, duplicated, fault + ": requests with more than one result");
            assertTrue(failed.isEmpty(), fault + ": failed results: " + failed);
        } finally {
            client.interrupt();
            client.join();
            results.stop();
        }
    }

    static byte[] request(String id, long seed) {
        return GenerationRequest.newBuilder().setRequestId(id).setCaption("a small red circle above a blue square")
                .setCandidates(CANDIDATES).setTopK(1).setSeed(seed).build().toByteArray();
    }

    /** Until the process to kill has handled some of this scenario's requests (its output has their keys). */
    private static void awaitSomeWork(String fault, List<String> ids) {
        String output = switch (fault) {
            case "tokenizer" -> Topics.TOKENIZED_REQUESTS.name();
            case "sampler" -> Topics.IMAGE_CODES.name();
            case "decoder" -> Topics.CANDIDATE_IMAGES.name();
            case "reranker" -> Topics.CANDIDATE_SCORES.name();
            default -> Topics.CANDIDATE_IMAGES.name();
        };
        String prefix = "chaos-" + fault + "-";
        Topic.awaitAny(stack.bootstrap(), output, k -> k.startsWith(prefix), Duration.ofMinutes(2));
    }

    /**
     * Freezes {@code processes} (SIGSTOP) at a moment when {@code target}'s group (every stage group and the fan-in
     * when null) has input it has not committed and a gRPC call is still in flight, both seen while they are frozen,
     * and returns how many records that is. While they are frozen none of them can commit, so the work counted is
     * still uncommitted when the caller kills; a moment without both lets them go on (SIGCONT) and looks again. When
     * every call has ended first (the calls can be past the stage by then: a faster pipeline made that happen in CI),
     * another round of {@link #GRPC_CALLS} calls is started, at most {@value #CALL_ROUNDS} rounds in all.
     */
    private static long freezeWithLag(List<ProcessHandle> processes, Target target, List<Call> calls)
            throws Exception {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        int rounds = 1;
        while (System.nanoTime() < end) {
            if (!inFlight(calls)) {
                if (rounds == CALL_ROUNDS) {
                    throw new AssertionError("every gRPC call of " + rounds + " rounds ended before " + (target != null
                            ? target.group() : "the pipeline") + " had uncommitted input");
                }
                calls.addAll(startCalls(rounds++ * GRPC_CALLS));
            }
            signal("STOP", processes);
            long lag = 0;
            try {
                for (Target t : target != null ? List.of(target) : TARGETS.values()) {
                    lag += behind(logEnd(t.input()), committed(t.group()));
                }
            } catch (Exception | AssertionError e) {
                signal("CONT", processes);
                throw e;
            }
            if (lag > 0 && inFlight(calls)) {
                return lag;
            }
            signal("CONT", processes);
            Thread.sleep(20);
        }
        throw new AssertionError((target != null ? target.group() : "no group") + " had uncommitted input within "
                + "2 min");
    }

    private static boolean inFlight(List<Call> calls) {
        return calls.stream().anyMatch(c -> !c.future().isDone());
    }

    /** Sends SIGSTOP or SIGCONT ({@code name}) to each process. */
    private static void signal(String name, List<ProcessHandle> processes) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + name));
        processes.forEach(p -> command.add(Long.toString(p.pid())));
        Process kill = new ProcessBuilder(command).inheritIO().start();
        assertEquals(0, kill.waitFor(), String.join(" ", command));
    }

    private static Map<TopicPartition, Long> logEnd(String topic) throws Exception {
        List<TopicPartition> parts = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                .partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        var offsets = admin.listOffsets(parts.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                .all().get();
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        offsets.forEach((p, o) -> out.put(p, o.offset()));
        return out;
    }

    private static Map<TopicPartition, Long> committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> c = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        c.forEach((p, o) -> {
            if (o != null) {
                out.put(p, o.offset());
            }
        });
        return out;
    }

    /** Sum over {@code logEnd}'s partitions of how far the committed offset (0 when none) is behind. */
    private static long behind(Map<TopicPartition, Long> logEnd, Map<TopicPartition, Long> committed) {
        long sum = 0;
        for (var e : logEnd.entrySet()) {
            sum += Math.max(0, e.getValue() - committed.getOrDefault(e.getKey(), 0L));
        }
        return sum;
    }

    /** One gRPC generation in flight. */
    record Call(int index, long startNanos, Future<GenerateResponse> future, long[] endNanos) {

        Status.Code outcome() throws InterruptedException {
            try {
                future.get(GRPC_DEADLINE.toSeconds() + 30, TimeUnit.SECONDS);
                return Status.Code.OK;
            } catch (ExecutionException e) {
                return Status.fromThrowable(e.getCause()).getCode();
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("gRPC call " + index + " hangs 30 s past its deadline");
            }
        }

        String error() {
            try {
                future.get(0, TimeUnit.SECONDS);
                return "";
            } catch (Exception e) {
                return String.valueOf(e.getCause());
            }
        }

        double seconds() {
            return ChaosTest.seconds(endNanos[0] - startNanos);
        }
    }

    /** {@link #GRPC_CALLS} gRPC generations at once, numbered (and seeded) from {@code first}. */
    private static List<Call> startCalls(int first) {
        GatewayGrpc.GatewayFutureStub stub = GatewayGrpc.newFutureStub(gateway);
        List<Call> calls = new ArrayList<>();
        for (int i = first; i < first + GRPC_CALLS; i++) {
            long start = System.nanoTime();
            long[] end = {0};
            var f = stub.withDeadlineAfter(GRPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).generate(
                    GenerateRequest.newBuilder().setCaption("a green triangle").setCandidates(CANDIDATES)
                            .setTopK(1).setSeed(i).build());
            f.addListener(() -> end[0] = System.nanoTime(), Runnable::run);
            calls.add(new Call(i, start, f, end));
        }
        return calls;
    }

    /** Until a small gRPC generation succeeds; returns when (System.nanoTime). */
    private static long awaitGrpc(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        StatusRuntimeException last = null;
        while (System.nanoTime() < end) {
            try {
                GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(30, TimeUnit.SECONDS).generate(
                        GenerateRequest.newBuilder().setCaption("a blue square").setCandidates(1).setTopK(1)
                                .setSeed(7).build());
                return System.nanoTime();
            } catch (StatusRuntimeException e) {
                last = e;
                gateway.resetConnectBackoff();
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the gateway's gRPC Generate did not succeed within " + timeout, last);
    }

    /** A read_committed reader of generation-results noting when each of its keys' results arrived. */
    static final class Results {
        private final Set<String> keys;
        private final Map<String, List<GenerationResult>> byKey = new ConcurrentHashMap<>();
        private volatile long lastArrival;
        private volatile boolean running = true;
        private final Thread thread;
        private volatile RuntimeException failure;

        Results(Set<String> keys) {
            this.keys = keys;
            this.thread = new Thread(this::run, "chaos-results");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap());
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
            String topic = Topics.GENERATION_RESULTS.name();
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                List<TopicPartition> parts = new ArrayList<>();
                for (PartitionInfo i : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                    parts.add(new TopicPartition(topic, i.partition()));
                }
                c.assign(parts);
                c.seekToBeginning(parts);
                while (running) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                        if (keys.contains(r.key())) {
                            byKey.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>())
                                    .add(EndToEndTest.parse(r));
                            lastArrival = System.nanoTime();
                        }
                    }
                }
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        int answered() {
            return byKey.size();
        }

        long lastArrival() {
            return lastArrival;
        }

        void awaitAll(Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (byKey.size() < keys.size() && System.nanoTime() < end && failure == null) {
                Thread.sleep(100);
            }
            Thread.sleep(SETTLE.toMillis()); // a duplicate would show meanwhile
            if (failure != null) {
                throw failure;
            }
        }

        Map<String, List<GenerationResult>> stop() throws InterruptedException {
            running = false;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            return Map.copyOf(byKey);
        }
    }

    private static double seconds(long nanos) {
        return Math.round(nanos / 1e8) / 10.0;
    }

    static void printTable() {
        StringBuilder b = new StringBuilder("\nchaos: SIGKILL while " + REQUESTS + " Kafka requests ("
                + CANDIDATES + " candidates) and rounds of " + GRPC_CALLS + " gRPC calls (another when a round ended before the"
                + " kill; grpc outcomes count them all) were in flight\n");
        b.append(String.format("%-10s %5s %8s %10s %6s %11s %9s %-38s %8s %9s %9s %12s%n", "fault", "sent",
                "answered", "duplicated", "failed", "uncommitted", "grpc-busy", "grpc outcomes", "max-call",
                "restarted", "grpc-back", "all-answered"));
        for (Row r : ROWS) {
            b.append(String.format("%-10s %5d %8d %10d %6d %11d %9d %-38s %7.1fs %8.1fs %8.1fs %11.1fs%n",
                    r.fault(), r.sent(), r.answered(), r.duplicated(), r.failed(), r.uncommitted(),
                    r.grpcInFlight(), r.grpcCodes(), r.maxGrpcSeconds(), r.restartSeconds(), r.grpcBackSeconds(),
                    r.allAnsweredSeconds()));
        }
        System.out.println(b);
    }
}
