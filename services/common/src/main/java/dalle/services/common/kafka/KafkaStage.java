package dalle.services.common.kafka;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dalle.services.common.DeadLetters;
import dalle.services.common.Parsed;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationEvent;
import dalle.v1.StageStatus;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka stage on a managed thread, with plain kafka-clients: consume the input topic (group
 * {@code dalle-<stage>}), parse and check each record, compute the poll's valid records together, produce the
 * outputs and events, and commit the poll's offsets only after every output is acknowledged (at-least-once; the
 * outputs are keyed and idempotent per (request_id, candidate_index), events.proto).
 *
 * <p>Nothing one record does stops the stage or its partition:
 * <ul>
 *   <li>a record that does not parse, is invalid, or makes the stage's check throw anything else, goes to
 *       {@code <topic>-dlq} unchanged with the reason headers ({@link DeadLetters}); a record that parsed and
 *       names a valid request id also gets a FAILED event (an unparseable one does not: its key is whatever the
 *       producer wrote, and must not fail someone else's request);</li>
 *   <li>a record past its deadline, or of another bundle version, gets a FAILED event only;</li>
 *   <li>when computing a poll's batch fails, each record is computed alone, so only the one that fails is
 *       dead-lettered;</li>
 *   <li>an output the broker refuses for good (too large, say) dead-letters the records of its request; an
 *       output that fails for a while (the broker away) makes the poll run again after a backoff that doubles up
 *       to {@link Settings#maxBackoff()};</li>
 *   <li>a commit refused because the group is rebalancing (a scale-out) or that times out is not fatal: the
 *       records go to whoever owns the partition now, and the stage polls on.</li>
 * </ul>
 * Each is counted in {@code dalle_kafka_stage_problems_total{stage,kind}}. The stage is not alive
 * ({@link #failure()}) when its thread died on an error it cannot step over (an authentication failure, a
 * virtual-machine error), or when it has made no progress for {@link Settings#stuckAfter()}.
 */
public final class KafkaStage<I extends Message, P> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaStage.class);
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(60);

    /**
     * How a stage connects and how patient it is.
     *
     * @param bootstrapServers the brokers, "host:port,..."
     * @param maxPollRecords records per poll (and so per computed batch), e.g. 16 for the sampler
     * @param instanceId this process's stable identity: the consumer's {@code group.instance.id} is
     *     {@code <instanceId>-<stage>}, so a process restarted (even after SIGKILL) within the session timeout
     *     takes its partitions back at once; unique per process and the same across its restarts; empty = dynamic
     *     membership
     * @param maxBackoff the longest wait before a poll whose outputs could not be sent runs again
     * @param stuckAfter no progress for this long (a poll retried that long, say) makes the stage not alive
     * @param client more Kafka client properties for the consumer and the producer (security settings, or to
     *     override a default such as {@code max.poll.interval.ms}); the group, the bootstrap servers, manual commits
     *     and the producer's acks and idempotence stay the stage's
     * @param tracing the trace context on the records: each record's processing is a span, a child of the trace its
     *     {@code traceparent} header carries, and the records it causes (outputs, events, dead letters) carry that
     *     span's trace on; {@link KafkaTracing#OFF} = none
     */
    public record Settings(String bootstrapServers, int maxPollRecords, Optional<String> instanceId,
                           Duration maxBackoff, Duration stuckAfter, Map<String, Object> client,
                           KafkaTracing tracing) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            if (maxPollRecords < 1) {
                throw new IllegalArgumentException("maxPollRecords " + maxPollRecords + " must be at least 1");
            }
            if (maxBackoff.isNegative() || stuckAfter.isNegative() || stuckAfter.isZero()) {
                throw new IllegalArgumentException("maxBackoff " + maxBackoff + " and stuckAfter " + stuckAfter
                        + " must be positive");
            }
            client = Map.copyOf(client);
            Objects.requireNonNull(tracing, "tracing (KafkaTracing.OFF for none)");
        }

        /** Defaults: a 30 s longest backoff, stuck after 5 min, no extra client properties, no tracing. */
        public static Settings of(String bootstrapServers, int maxPollRecords, Optional<String> instanceId) {
            return new Settings(bootstrapServers, maxPollRecords, instanceId, Duration.ofSeconds(30),
                    Duration.ofMinutes(5), Map.of(), KafkaTracing.OFF);
        }

        public Settings withBackoff(Duration maxBackoff, Duration stuckAfter) {
            return new Settings(bootstrapServers, maxPollRecords, instanceId, maxBackoff, stuckAfter, client, tracing);
        }

        public Settings withClient(Map<String, Object> properties) {
            return new Settings(bootstrapServers, maxPollRecords, instanceId, maxBackoff, stuckAfter, properties,
                    tracing);
        }

        public Settings withTracing(KafkaTracing tracing) {
            return new Settings(bootstrapServers, maxPollRecords, instanceId, maxBackoff, stuckAfter, client, tracing);
        }
    }

    private final StageHandler<I, P> handler;
    private final StageMetrics metrics;
    private final Settings settings;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile long lastProgressNanos = System.nanoTime();

    /** Starts consuming at once. */
    public KafkaStage(StageHandler<I, P> handler, StageMetrics metrics, Settings settings) {
        this.handler = handler;
        this.metrics = metrics;
        this.settings = settings;
        String stage = stageName();
        Properties c = new Properties();
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
        c.putAll(settings.client()); // security settings and overrides, then what the stage cannot do without
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "dalle-" + stage);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, settings.maxPollRecords());
        settings.instanceId().ifPresent(id -> c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id + "-" + stage));
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
        p.putAll(settings.client());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        thread = new Thread(this::run, "kafka-" + stage);
        thread.setDaemon(true);
        thread.start();
    }

    private String stageName() {
        return handler.stage().name().substring("STAGE_".length()).toLowerCase(java.util.Locale.ROOT);
    }

    private void run() {
        long backoff = 0;
        try {
            consumer.subscribe(List.of(handler.input().name()));
            while (running) {
                try {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                    if (records.isEmpty() || handle(records)) {
                        lastProgressNanos = System.nanoTime();
                        backoff = 0;
                    } else {
                        backoff = backoff == 0 ? 200 : Math.min(backoff * 2, settings.maxBackoff().toMillis());
                        Thread.sleep(backoff);
                    }
                } catch (RetriableException | CommitFailedException e) {
                    // the group is rebalancing or the broker is slow: poll again (uncommitted records come back)
                    problem("poll", e);
                    Thread.sleep(200);
                }
            }
        } catch (WakeupException | InterruptException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (AuthenticationException | AuthorizationException e) {
            failure = e;
            LOG.error("Kafka stage {} stopped: the cluster refuses this client: {}", handler.stage(), e.getMessage());
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("Kafka stage {} stopped", handler.stage(), e);
        } finally {
            try {
                consumer.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the consumer of {} failed: {}", handler.stage(), e.toString());
            }
        }
    }

    /**
     * One poll: prepare, process, send, commit, each record's work in its own span (ended when the poll's outputs
     * are sent or given up). @return false when the poll must run again (outputs not sent)
     */
    private boolean handle(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        List<Span> spans = new ArrayList<>();
        try {
            return handle(records, spans);
        } finally {
            spans.forEach(Span::end);
        }
    }

    private boolean handle(ConsumerRecords<byte[], byte[]> records, List<Span> spans) throws InterruptedException {
        Sender out = new Sender();
        List<P> valid = new ArrayList<>();
        List<ConsumerRecord<byte[], byte[]>> validRecords = new ArrayList<>();
        Map<ConsumerRecord<byte[], byte[]>, Context> traces = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Span span = settings.tracing().process(r, "dalle-" + stageName());
            spans.add(span);
            Context trace = Context.root().with(span);
            traces.put(r, trace);
            Parsed<I> parsed = handler.input().parse(r.value());
            if (parsed instanceof Parsed.Failed<I> f) {
                deadLetter(out, r, null, DeadLetters.reason(f.cause()), null, trace);
                continue;
            }
            String requestId = requestIdOf(parsed.value());
            if (requestId != null) {
                out.traces.put(requestId, trace); // its outputs and events, from whichever thread, carry its trace
            }
            // a record without a key is taken by its request id; one keyed otherwise is refused
            Optional<String> mismatch = requestId == null || r.key() == null ? Optional.empty()
                    : Requests.keyMismatch(new String(r.key(), StandardCharsets.UTF_8), requestId);
            if (mismatch.isPresent()) {
                deadLetter(out, r, requestId, "request_id: " + mismatch.get() + " (the key must be the request id)",
                        "request_id", trace);
                continue;
            }
            try {
                valid.add(handler.prepare(parsed.value(), r.timestamp()));
                validRecords.add(r);
            } catch (FieldException e) {
                deadLetter(out, r, requestId, e.getMessage(), e.field(), trace);
            } catch (StageException e) {
                if (requestId != null) {
                    out.fail(requestId, e);
                }
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                problem("unexpected-record", e);
                deadLetter(out, r, requestId, "the " + stageName() + " failed on this record: "
                        + DeadLetters.reason(e), null, trace);
            }
        }
        process(valid, validRecords, out, traces);
        Outcome sent = out.awaitAcks();
        if (sent == Outcome.RETRY) {
            seekBack(records);
            return false;
        }
        if (sent == Outcome.REFUSED) {
            // outputs the broker will never take: their requests' records are dead-lettered instead, then committed
            Sender again = new Sender();
            again.traces.putAll(out.traces);
            for (int i = 0; i < validRecords.size(); i++) {
                String id = handler.requestId(valid.get(i));
                if (out.refusedRequests.contains(id)) {
                    deadLetter(again, validRecords.get(i), id, "an output of this request was refused by Kafka: "
                            + out.refusedReasons.get(id), null, traces.get(validRecords.get(i)));
                }
            }
            if (again.awaitAcks() != Outcome.SENT) {
                seekBack(records);
                return false;
            }
        }
        commit(records);
        return true;
    }

    /** The batch; when it fails, each record alone, so only a record that fails alone is dead-lettered. */
    private void process(List<P> valid, List<ConsumerRecord<byte[], byte[]>> validRecords, Sender out,
            Map<ConsumerRecord<byte[], byte[]>, Context> traces) throws InterruptedException {
        if (valid.isEmpty()) {
            return;
        }
        try {
            handler.process(valid, out);
            return;
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            if (valid.size() == 1) {
                problem("unexpected-record", e);
                deadLetter(out, validRecords.get(0), handler.requestId(valid.get(0)), "the " + stageName()
                        + " failed on this record: " + DeadLetters.reason(e), null, traces.get(validRecords.get(0)));
                return;
            }
            problem("batch", e);
            LOG.warn("{} failed on a batch of {} records; computing them one by one", handler.stage(), valid.size(), e);
        }
        for (int i = 0; i < valid.size(); i++) {
            process(List.of(valid.get(i)), List.of(validRecords.get(i)), out, traces);
        }
    }

    private void commit(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> part = records.records(tp);
            offsets.put(tp, new OffsetAndMetadata(part.get(part.size() - 1).offset() + 1));
        }
        try {
            consumer.commitSync(offsets);
        } catch (CommitFailedException | RebalanceInProgressException
                 | org.apache.kafka.common.errors.TimeoutException e) {
            // The partitions moved (a scale-out rebalance) or the commit timed out: the outputs are sent and
            // idempotent, so whoever owns the partitions now may compute these records again, harmlessly.
            problem("commit", e);
            LOG.warn("{}: the commit of a poll failed ({}); its records may be computed again", handler.stage(),
                    e.toString());
        }
    }

    private void seekBack(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            try {
                consumer.seek(tp, records.records(tp).get(0).offset());
            } catch (IllegalStateException revoked) {
                // the partition moved to another member during the poll: it will be read from the committed offset
            }
        }
    }

    /** Errors a stage must not step over: the JVM itself is in trouble (out of memory, internal error). */
    private static void rethrowIfFatal(Throwable e) {
        if (e instanceof VirtualMachineError v && !(e instanceof StackOverflowError)) {
            throw v;
        }
    }

    private void problem(String kind, Throwable e) {
        metrics.kafkaProblem(stageName(), kind);
        LOG.debug("{}: {} problem", handler.stage(), kind, e);
    }

    /** The request id of a parsed input, when it is a valid one (else null: no event for it). */
    private static String requestIdOf(Message value) {
        FieldDescriptor f = value.getDescriptorForType().findFieldByName("request_id");
        if (f == null || f.getType() != FieldDescriptor.Type.STRING) {
            return null;
        }
        String id = (String) value.getField(f);
        try {
            return Requests.requestId("request_id", id);
        } catch (FieldException e) {
            return null;
        }
    }

    /** Dead-letters {@code r} (its trace goes on: the dead letter is a child of {@code trace}), FAILED event. */
    private void deadLetter(Sender out, ConsumerRecord<byte[], byte[]> r, String requestId, String reason,
            String field, Context trace) {
        out.raw(DeadLetters.record(r, handler.stage(), reason), trace);
        metrics.deadLettered(r.topic());
        if (requestId != null) {
            Failure.Builder f = Failure.newBuilder().setCode(field != null ? ErrorCode.ERROR_CODE_INVALID_ARGUMENT
                    : ErrorCode.ERROR_CODE_INTERNAL).setMessage(reason).setStage(handler.stage());
            if (field != null) {
                f.setField(field);
            }
            out.event(failedEvent(requestId, f.build()));
        }
    }

    private GenerationEvent failedEvent(String requestId, Failure failure) {
        return GenerationEvent.newBuilder().setRequestId(requestId).setStage(handler.stage())
                .setStatus(StageStatus.STAGE_STATUS_FAILED).setMessage(failure.getMessage()).setError(failure)
                .setTimestampMs(System.currentTimeMillis()).build();
    }

    /** What became of a poll's outputs: all sent; some failing for a while; some refused for good. */
    private enum Outcome { SENT, RETRY, REFUSED }

    /** Sends and remembers every send of one poll, so the poll is committed only when all are acknowledged. */
    private final class Sender implements Emitter {

        private final List<Future<RecordMetadata>> sent = new ArrayList<>();
        /** The trace of each request of the poll: the span of processing its record. */
        final Map<String, Context> traces = new ConcurrentHashMap<>();
        private final List<String> sentFor = new ArrayList<>(); // the request id of each send (null: a dead letter)
        final Set<String> refusedRequests = new LinkedHashSet<>();
        final Map<String, String> refusedReasons = new LinkedHashMap<>();

        void raw(ProducerRecord<byte[], byte[]> record, Context trace) {
            send(record, null, trace);
        }

        /** Sends {@code record} in a publish span, a child of {@code trace}, whose traceparent the record carries. */
        private synchronized void send(ProducerRecord<byte[], byte[]> record, String requestId, Context trace) {
            String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
            Span span = settings.tracing().publish(trace == null ? Context.root() : trace, record.topic(), key,
                    record.headers());
            Future<RecordMetadata> f;
            try {
                f = producer.send(record, (meta, error) -> KafkaTracing.end(span, error));
            } catch (KafkaException e) {
                // refused before it left (too large for the producer, say): the same as a refused send
                KafkaTracing.end(span, e);
                f = java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            sent.add(f);
            sentFor.add(requestId);
        }

        @Override
        public <V extends Message> void send(TopicSpec<V> topic, String requestId, V value) {
            send(CloudEvents.record(topic.name(), requestId.getBytes(StandardCharsets.UTF_8), value,
                    CloudEvents.source(handler.stage())), requestId, traces.get(requestId));
        }

        @Override
        public void event(GenerationEvent event) {
            raw(CloudEvents.record(Topics.GENERATION_EVENTS.name(),
                    event.getRequestId().getBytes(StandardCharsets.UTF_8), event, CloudEvents.source(handler.stage())),
                    traces.get(event.getRequestId()));
        }

        @Override
        public void fail(String requestId, StageException error) {
            if (error.code() == ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED) {
                metrics.deadlineDropped(handler.stage());
            }
            event(failedEvent(requestId, Failure.newBuilder().setCode(error.code()).setMessage(error.getMessage())
                    .setStage(handler.stage()).build()));
        }

        /** Waits for every send: all sent; some failing for a while (retry the poll); or some refused for good. */
        Outcome awaitAcks() throws InterruptedException {
            List<Future<RecordMetadata>> all;
            List<String> ids;
            synchronized (this) {
                all = List.copyOf(sent);
                ids = new ArrayList<>(sentFor);
            }
            long end = System.nanoTime() + ACK_TIMEOUT.toNanos();
            boolean retry = false;
            for (int i = 0; i < all.size(); i++) {
                try {
                    all.get(i).get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    retry = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RetriableException || ids.get(i) == null) {
                        retry = true;
                        problem("send-retry", cause);
                        LOG.warn("{}: an output was not acknowledged ({}); the poll runs again", handler.stage(),
                                cause.toString());
                    } else {
                        problem("send-refused", cause);
                        refusedRequests.add(ids.get(i));
                        refusedReasons.putIfAbsent(ids.get(i), DeadLetters.reason(cause));
                    }
                }
            }
            return retry ? Outcome.RETRY : refusedRequests.isEmpty() ? Outcome.SENT : Outcome.REFUSED;
        }
    }

    /** The stage. */
    public dalle.v1.Stage stage() {
        return handler.stage();
    }

    /**
     * Why the stage is not alive: its thread died (with the error), or it has made no progress for
     * {@link Settings#stuckAfter()} (a poll retried that long); null while it runs (or after a clean close).
     */
    public String failure() {
        Throwable f = failure;
        if (f != null) {
            return "the consumer thread stopped: " + f;
        }
        long stuck = System.nanoTime() - lastProgressNanos;
        if (running && stuck > settings.stuckAfter().toNanos()) {
            return "no progress for " + Duration.ofNanos(stuck).toSeconds() + " s (outputs cannot be sent)";
        }
        return null;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
