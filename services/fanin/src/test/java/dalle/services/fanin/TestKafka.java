package dalle.services.fanin;

import dalle.services.common.TopicSetup;
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
 * One real broker for all tests of this module (LocalKafka's shutdown hook stops it when the test JVM exits),
 * with the registry's topics created, and the client helpers the tests share. Files stay in target/kafka-test.
 */
final class TestKafka {

    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static LocalKafka kafka;

    private TestKafka() {
    }

    static synchronized String bootstrap() {
        if (kafka == null) {
            try {
                Path dir = Path.of("target", "kafka-test");
                deleteTree(dir);
                kafka = LocalKafka.builder(dir).start();
                try (Admin admin = Admin.create(TopicSetup.adminConfig(kafka.bootstrapServers(), TIMEOUT))) {
                    new TopicSetup(admin, (short) 1, TIMEOUT).apply(false);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return kafka.bootstrapServers();
    }

    /** Settings for a test application: its own id and state folder, quick commits, a short session. */
    static StreamsSettings settings(String applicationId, Path stateDir) {
        return StreamsSettings.of(bootstrap(), applicationId, stateDir)
                .with("commit.interval.ms", "100")
                .with("consumer.session.timeout.ms", "10000");
    }

    static void send(String topic, String key, byte[] value) {
        sendAll(List.of(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value)));
    }

    static void sendAll(List<ProducerRecord<byte[], byte[]>> records) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (ProducerRecord<byte[], byte[]> r : records) {
                p.send(r);
            }
            p.flush();
        }
    }

    /**
     * Committed records of {@code topic} whose key is one of {@code keys} ("" stands for no key), read from the beginning until
     * {@code until} holds for what was read (null: until the end the topic had when reading began), or the
     * timeout.
     */
    static List<ConsumerRecord<byte[], byte[]>> read(String topic, Set<String> keys,
            Predicate<List<ConsumerRecord<byte[], byte[]>>> until, Duration timeout) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> tps = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
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
     * Waits until application {@code applicationId} has committed (exactly-once: with its outputs) every record
     * now in {@code topics}: after this, whatever those records cause is visible to read_committed readers.
     */
    static void awaitDrained(String applicationId, List<String> topics) throws Exception {
        try (Admin admin = Admin.create(TopicSetup.adminConfig(bootstrap(), TIMEOUT))) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var d : admin.describeTopics(topics).allTopicNames().get().values()) {
                d.partitions().forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()),
                        OffsetSpec.latest()));
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(applicationId)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                boolean done = ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                        || committed.get(e.getKey()) != null
                        && committed.get(e.getKey()).offset() >= e.getValue().offset());
                if (done) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError(applicationId + " did not consume " + topics + " within " + TIMEOUT);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
