package dalle.tools.localkafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real broker from target/kafka-lib: it starts, survives a restart with its data, and fails loudly. */
class LocalKafkaTest {

    @Test
    void restartOnTheSameDataFolderKeepsTopicsRecordsClusterIdAndPort(@TempDir Path dir) throws Exception {
        String clusterId;
        int port;
        ProcessHandle first;
        try (LocalKafka kafka = LocalKafka.builder(dir).start()) {
            first = ProcessHandle.of(kafka.pid()).orElseThrow();
            assertTrue(kafka.isRunning());
            assertTrue(Files.exists(dir.resolve("kafka-logs/meta.properties")), "storage formatted");
            clusterId = kafka.clusterId();
            port = kafka.port();
            try (Admin admin = admin(kafka)) {
                admin.createTopics(List.of(new NewTopic("kept-across-restarts", 3, (short) 1))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                    new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("kept-across-restarts", 1, "req-1", "hello")).get(30, TimeUnit.SECONDS);
            }
            // A second broker on the same folder would fight over its files: refused before anything is touched.
            String before = Files.readString(dir.resolve("server.properties"));
            IOException clash = assertThrows(IOException.class, () -> LocalKafka.builder(dir).start().close());
            assertTrue(clash.getMessage().contains("another broker is running"), clash.getMessage());
            assertEquals(before, Files.readString(dir.resolve("server.properties")));
            assertTrue(kafka.isRunning(), "the first broker is unaffected");
        }
        assertFalse(first.isAlive(), "close() stops the broker process");
        try (LocalKafka again = LocalKafka.builder(dir).start()) {
            assertEquals(clusterId, again.clusterId());
            assertEquals(port, again.port(), "a free previous port is reused");
            try (Admin admin = admin(again)) {
                TopicDescription d = admin.describeTopics(Set.of("kept-across-restarts")).allTopicNames()
                        .get(30, TimeUnit.SECONDS).get("kept-across-restarts");
                assertEquals(3, d.partitions().size());
            }
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, again.bootstrapServers()),
                    new StringDeserializer(), new StringDeserializer())) {
                TopicPartition tp = new TopicPartition("kept-across-restarts", 1);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (values.isEmpty() && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.key() + "=" + r.value()));
                }
                assertEquals(List.of("req-1=hello"), values, "the record written before the restart");
            }
        }
    }

    @Test
    void aBrokerJvmThatDiesIsReportedWithItsLog(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class,
                () -> LocalKafka.builder(dir).jvmOptions(List.of("-XX:+NoSuchVmOption")).start());
        assertTrue(e.getMessage().contains("see " + dir.resolve("broker.log")), e.getMessage());
        assertTrue(e.getMessage().contains("NoSuchVmOption"), "quotes the log: " + e.getMessage());
    }

    @Test
    void aMissingBrokerClasspathIsNamedWithTheFix(@TempDir Path dir) {
        Path lib = dir.resolve("no-kafka-here");
        IOException e = assertThrows(IOException.class, () -> LocalKafka.builder(dir.resolve("data")).kafkaLib(lib).start());
        assertTrue(e.getMessage().contains(lib.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tools/local-kafka"), e.getMessage());
    }

    @Test
    void portsOutsideTheRangeAreRejected(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LocalKafka.builder(dir).port(70000));
        assertEquals("port 70000 is outside 1..65535", e.getMessage());
    }

    @Test
    void aSaslSslBrokerKeepsItsCertificateAndUsersAcrossARestartAndRefusesToStartPlaintext(@TempDir Path dir)
            throws Exception {
        String certificate;
        try (LocalKafka kafka = LocalKafka.builder(dir).saslSsl(false).start()) {
            assertEquals("SASL_SSL", kafka.securityProtocol());
            assertEquals("SASL_SSL://127.0.0.1:" + kafka.port(), kafka.serverProperties().getProperty("listeners")
                    .split(",")[0], "the only client listener");
            kafka.addScramUser("alice", "alice-password");
            certificate = Files.readString(kafka.truststore());
        }
        IOException plain = assertThrows(IOException.class, () -> LocalKafka.builder(dir).start().close());
        assertTrue(plain.getMessage().contains("the folder was formatted SASL_SSL"), plain.getMessage());
        try (LocalKafka again = LocalKafka.builder(dir).saslSsl(false).start()) {
            assertEquals(certificate, Files.readString(again.truststore()), "the same certificate");
            try (Admin admin = Admin.create(again.clientProperties("alice", "alice-password"))) {
                assertFalse(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).isEmpty(), "alice logs in");
            }
            Map<String, Object> wrong = new java.util.HashMap<>(again.clientProperties("alice", "not-hers"));
            wrong.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
            wrong.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
            try (Admin admin = Admin.create(wrong)) {
                var e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.SaslAuthenticationException,
                        e.toString());
            }
        }
    }

    private static Admin admin(LocalKafka kafka) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }
}
