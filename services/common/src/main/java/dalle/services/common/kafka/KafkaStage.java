package dalle.services.common.kafka;

import com.google.protobuf.Message;
import dalle.services.common.DeadLetters;
import dalle.services.common.Parsed;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationEvent;
import dalle.v1.StageStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
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
 * <p>A record that does not parse, or is invalid, goes to {@code <topic>-dlq} unchanged with the reason headers
 * ({@link DeadLetters}) and, when its key (the request id) is known, a FAILED event; the records around it are
 * processed as usual. A record past its deadline, or of another bundle version, gets a FAILED event only. When
 * sending fails, the poll is not committed: the consumer seeks back and the records are processed again.
 */
public final class KafkaStage<I extends Message, P> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaStage.class);
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(60);

    private final StageHandler<I, P> handler;
    private final StageMetrics metrics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    /**
     * Starts consuming at once.
     *
     * @param bootstrapServers the brokers, "host:port,..."
     * @param maxPollRecords records per poll (and so per computed batch), e.g. 16 for the sampler
     */
    public KafkaStage(String bootstrapServers, StageHandler<I, P> handler, StageMetrics metrics,
            int maxPollRecords) {
        this(bootstrapServers, handler, metrics, maxPollRecords, java.util.Optional.empty());
    }

    /**
     * Starts consuming at once, as a static group member when {@code instanceId} is given.
     *
     * @param instanceId this process's stable identity: the consumer's {@code group.instance.id} is
     *     {@code <instanceId>-<stage>}, so a process restarted (even after SIGKILL) within the session timeout
     *     takes its partitions back at once instead of waiting for the old member to expire; it must be unique per
     *     process and the same across its restarts
     */
    public KafkaStage(String bootstrapServers, StageHandler<I, P> handler, StageMetrics metrics,
            int maxPollRecords, java.util.Optional<String> instanceId) {
        this.handler = handler;
        this.metrics = metrics;
        String stage = handler.stage().name().substring("STAGE_".length()).toLowerCase(java.util.Locale.ROOT);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "dalle-" + stage);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
        instanceId.ifPresent(id -> c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id + "-" + stage));
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        thread = new Thread(this::run, "kafka-" + stage);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            consumer.subscribe(List.of(handler.input().name()));
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    handle(records);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("Kafka stage {} stopped", handler.stage(), e);
        } finally {
            consumer.close();
        }
    }

    private void handle(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        Sender out = new Sender();
        List<P> valid = new ArrayList<>();
        List<ConsumerRecord<byte[], byte[]>> validRecords = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            Parsed<I> parsed = handler.input().parse(r.value());
            if (parsed instanceof Parsed.Failed<I> f) {
                deadLetter(out, r, key, DeadLetters.reason(f.cause()), null);
                continue;
            }
            try {
                valid.add(handler.prepare(parsed.value(), r.timestamp()));
                validRecords.add(r);
            } catch (FieldException e) {
                deadLetter(out, r, key, e.getMessage(), e.field());
            } catch (StageException e) {
                if (key != null) {
                    out.fail(key, e);
                }
            }
        }
        if (!valid.isEmpty()) {
            try {
                handler.process(valid, out);
            } catch (RuntimeException e) {
                LOG.warn("{} failed on a batch of {} records; dead-lettering them", handler.stage(), valid.size(), e);
                for (int i = 0; i < valid.size(); i++) {
                    deadLetter(out, validRecords.get(i), handler.requestId(valid.get(i)), DeadLetters.reason(e), null);
                }
            }
        }
        if (out.awaitAcks()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (TopicPartition tp : records.partitions()) {
                List<ConsumerRecord<byte[], byte[]>> part = records.records(tp);
                offsets.put(tp, new OffsetAndMetadata(part.get(part.size() - 1).offset() + 1));
            }
            consumer.commitSync(offsets);
        } else {
            for (TopicPartition tp : records.partitions()) {
                consumer.seek(tp, records.records(tp).get(0).offset());
            }
        }
    }

    private void deadLetter(Sender out, ConsumerRecord<byte[], byte[]> r, String requestId, String reason,
            String field) {
        out.raw(DeadLetters.record(r, handler.stage(), reason));
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

    /** Sends and remembers every send of one poll, so the poll is committed only when all are acknowledged. */
    private final class Sender implements Emitter {
        private final List<Future<RecordMetadata>> sent = new ArrayList<>();

        synchronized void raw(ProducerRecord<byte[], byte[]> record) {
            sent.add(producer.send(record));
        }

        @Override
        public <V extends Message> void send(TopicSpec<V> topic, String requestId, V value) {
            raw(new ProducerRecord<>(topic.name(), requestId.getBytes(StandardCharsets.UTF_8), value.toByteArray()));
        }

        @Override
        public void event(GenerationEvent event) {
            raw(new ProducerRecord<>(Topics.GENERATION_EVENTS.name(),
                    event.getRequestId().getBytes(StandardCharsets.UTF_8), event.toByteArray()));
        }

        @Override
        public void fail(String requestId, StageException error) {
            if (error.code() == ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED) {
                metrics.deadlineDropped(handler.stage());
            }
            event(failedEvent(requestId, Failure.newBuilder().setCode(error.code()).setMessage(error.getMessage())
                    .setStage(handler.stage()).build()));
        }

        /** Whether every send was acknowledged. */
        boolean awaitAcks() throws InterruptedException {
            List<Future<RecordMetadata>> all;
            synchronized (this) {
                all = List.copyOf(sent);
            }
            long end = System.nanoTime() + ACK_TIMEOUT.toNanos();
            for (Future<RecordMetadata> f : all) {
                try {
                    f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    LOG.warn("{}: an output was not acknowledged ({}); the poll is processed again", handler.stage(), e.toString());
                    return false;
                }
            }
            return true;
        }
    }

    /** The stage. */
    public dalle.v1.Stage stage() {
        return handler.stage();
    }

    /** Why the consumer thread died; null while it runs (or after a clean {@link #close()}). */
    public Throwable failure() {
        return failure;
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
