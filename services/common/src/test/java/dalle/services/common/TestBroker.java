package dalle.services.common;

import dalle.tools.localkafka.LocalKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The test broker of every module that needs Kafka (exported in dalle-services-common's test-jar): one real broker
 * per test JVM ({@link LocalKafka}, started on first use, stopped by its shutdown hook when the JVM exits; files in
 * {@code target/kafka-test} for a look after a failure), and the plain-client helpers the tests share.
 */
public final class TestBroker {

    /**
     * How long a helper waits for the broker or for records: long enough to outlast one stall of the shared test
     * broker on a busy 2-core CI machine. In one CI check, its produce requests timed out after 30 s, which fenced
     * the fan-in and made its first result arrive after the former 60 s. A wait that succeeds returns at once.
     */
    public static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static LocalKafka kafka;
    private static boolean topics;

    private TestBroker() {
    }

    /** The broker's bootstrap address; the broker starts on first use, with no topics. */
    public static synchronized String bootstrap() {
        if (kafka == null) {
            try {
                Path dir = Path.of("target", "kafka-test");
                deleteTree(dir);
                kafka = LocalKafka.builder(dir).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return kafka.bootstrapServers();
    }

    /** The bootstrap address, after creating every registry topic ({@link TopicSetup}, once per JVM). */
    public static synchronized String withTopics() {
        String bootstrap = bootstrap();
        if (!topics) {
            try (Admin admin = admin()) {
                new TopicSetup(admin, (short) 1, TIMEOUT).apply(false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            topics = true;
        }
        return bootstrap;
    }

    public static Admin admin() {
        return Admin.create(TopicSetup.adminConfig(bootstrap(), TIMEOUT));
    }

    /** A raw producer: acks=all, no linger; the caller closes it. */
    public static KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Sends one record and waits until it is acknowledged. */
    public static void send(String topic, String key, byte[] value) {
        sendAll(List.of(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value)));
    }

    /** Sends the records in order and waits until all are acknowledged. */
    public static void sendAll(List<ProducerRecord<byte[], byte[]>> records) {
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            for (ProducerRecord<byte[], byte[]> r : records) {
                p.send(r);
            }
            p.flush();
        }
    }

    /** The record at (topic, partition, offset), read raw without a consumer group. */
    public static ConsumerRecord<byte[], byte[]> readAt(String topic, int partition, long offset) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(false)) {
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seek(tp, offset);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() == offset) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no record at " + topic + "-" + partition + "@" + offset + " within " + TIMEOUT);
    }

    /**
     * Reads {@code topic} from the beginning (no group, uncommitted records too) until {@code count} records match
     * {@code filter}.
     *
     * @throws AssertionError when they do not arrive within the timeout
     */
    public static List<ConsumerRecord<byte[], byte[]>> await(String topic, int count,
            Predicate<ConsumerRecord<byte[], byte[]>> filter) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(false)) {
            List<TopicPartition> parts = fromBeginning(consumer, topic);
            long end = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < end && out.size() < count) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (filter.test(r)) {
                        out.add(r);
                    }
                }
            }
            if (parts.isEmpty()) {
                throw new AssertionError("topic " + topic + " has no partitions");
            }
        }
        if (out.size() < count) {
            throw new AssertionError("only " + out.size() + " of " + count + " records on " + topic + " within "
                    + TIMEOUT);
        }
        return out;
    }

    /** How many records of {@code topic} match {@code filter}, reading everything there is now. */
    public static int count(String topic, Predicate<ConsumerRecord<byte[], byte[]>> filter) {
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(false)) {
            List<TopicPartition> parts = fromBeginning(consumer, topic);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline
                    && parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (filter.test(r)) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    /**
     * Committed records of {@code topic} whose key is one of {@code keys} ("" stands for no key), read from the
     * beginning until {@code until} holds for what was read (null: until the end the topic had when reading
     * began), or the timeout.
     */
    public static List<ConsumerRecord<byte[], byte[]>> read(String topic, Set<String> keys,
            Predicate<List<ConsumerRecord<byte[], byte[]>>> until, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(true)) {
            List<TopicPartition> tps = fromBeginning(consumer, topic);
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps); // read_committed: the last stable offsets
            while (System.nanoTime() < deadline && !(until == null
                    ? tps.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp)) : until.test(got))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (keys.contains(r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8))) {
                        got.add(r);
                    }
                }
            }
        }
        return got;
    }

    /**
     * Waits until consumer group {@code groupId} (a Kafka Streams application id, say) has committed every record
     * now in {@code topics}: after this, whatever those records cause is visible to read_committed readers.
     *
     * <p>A partition counts as drained when the group's committed offset reaches its end, or when nothing but
     * transaction markers lies between the two: an exactly-once application that reads a topic it also writes
     * (the fan-in reads and writes {@code generation-events}) can commit the offset just past its last record
     * while that transaction's commit marker follows it, and it has no record left to process that would move
     * the commit further.
     */
    public static void awaitDrained(String groupId, List<String> topics) throws Exception {
        try (Admin admin = admin(); KafkaConsumer<byte[], byte[]> reader = consumer(true)) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var d : admin.describeTopics(topics).allTopicNames().get().values()) {
                d.partitions().forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()),
                        OffsetSpec.latest()));
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                Map<TopicPartition, Long> behind = new HashMap<>();
                ends.forEach((tp, end) -> {
                    OffsetAndMetadata at = committed.get(tp);
                    long from = at == null ? 0 : at.offset();
                    if (end.offset() > 0 && from < end.offset()) {
                        behind.put(tp, from);
                    }
                });
                if (behind.isEmpty() || onlyMarkersBetween(reader, behind, ends)) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError(groupId + " did not consume " + topics + " within " + TIMEOUT);
        }
    }

    /** Whether a read_committed reader finds no record from each partition's {@code from} offset to its end. */
    private static boolean onlyMarkersBetween(KafkaConsumer<byte[], byte[]> reader, Map<TopicPartition, Long> from,
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends) {
        reader.assign(from.keySet());
        from.forEach(reader::seek);
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline) {
            if (!reader.poll(Duration.ofMillis(100)).isEmpty()) {
                return false;
            }
            if (from.keySet().stream().allMatch(tp -> reader.position(tp) >= ends.get(tp).offset())) {
                return true;
            }
        }
        return false;
    }

    /** Deletes a folder and everything in it; nothing when it does not exist. */
    public static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(boolean readCommitted) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
        if (readCommitted) {
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        }
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> fromBeginning(KafkaConsumer<byte[], byte[]> consumer, String topic) {
        List<TopicPartition> tps = consumer.partitionsFor(topic, TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        return tps;
    }
}
