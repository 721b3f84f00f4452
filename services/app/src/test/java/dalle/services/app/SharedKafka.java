package dalle.services.app;

import dalle.services.common.TopicSetup;
import dalle.tools.localkafka.LocalKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One real broker for all tests of this module, with every registry topic created (started on first use, stopped
 * by LocalKafka's shutdown hook when the test JVM exits).
 */
public final class SharedKafka {

    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static LocalKafka kafka;

    private SharedKafka() {
    }

    public static synchronized String bootstrap() {
        if (kafka == null) {
            try {
                Path dir = Path.of("target", "kafka-test");
                if (Files.exists(dir)) {
                    try (Stream<Path> files = Files.walk(dir)) {
                        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
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

    public static KafkaProducer<byte[], byte[]> producer() {
        Properties c = new Properties();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Reads {@code topic} from the beginning (no group) until {@code count} records match {@code filter}.
     *
     * @throws AssertionError when they do not arrive within the timeout
     */
    public static List<ConsumerRecord<byte[], byte[]>> await(String topic, int count,
            Predicate<ConsumerRecord<byte[], byte[]>> filter) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, TIMEOUT)) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long end = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < end && out.size() < count) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (filter.test(r)) {
                        out.add(r);
                    }
                }
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
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, TIMEOUT)) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
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

    /** Test-resource config for a @QuarkusTest: the broker and the test bundle. */
    static Map<String, String> quarkusConfig() {
        try {
            return Map.of("kafka.bootstrap.servers", bootstrap(), "dalle.model", TestModel.dir().toString(),
                    "dalle.gateway.state-dir", java.nio.file.Files.createTempDirectory("dalle-gateway-").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
