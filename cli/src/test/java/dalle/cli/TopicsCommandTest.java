package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.tools.localkafka.LocalKafka;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalle topics} as a user runs it, against a real local broker. */
class TopicsCommandTest {

    @Test
    void applyPrintsWhatItWouldDoThenWhatItDidThenThatNothingChanged(@TempDir Path dir) throws Exception {
        try (LocalKafka kafka = LocalKafka.builder(dir).start()) {
            String bootstrap = kafka.bootstrapServers();

            CliRun dry = CliRun.dalle("topics", "apply", "--bootstrap", bootstrap, "--dry-run");
            assertEquals(0, dry.exit(), dry.err());
            assertTrue(dry.out().contains("generation-requests        would create  3 partitions, replication factor 1"),
                    dry.out());
            assertTrue(dry.out().contains("14 topics: 14 to create, 0 with partitions to add, 0 unchanged; "
                    + "0 differ from the registry (dry run: nothing changed)"), dry.out());

            CliRun apply = CliRun.dalle("topics", "apply", "--bootstrap", bootstrap);
            assertEquals(0, apply.exit(), apply.err());
            assertTrue(apply.out().contains("image-codes-dlq            created       1 partition, replication factor 1"), apply.out());
            assertTrue(apply.out().contains("14 topics: 14 created"), apply.out());

            CliRun again = CliRun.dalle("topics", "apply", "--bootstrap", bootstrap);
            assertEquals(0, again.exit(), again.err());
            assertTrue(again.out().contains("14 topics: 0 created, 0 with partitions added, 14 unchanged; "
                    + "0 differ from the registry"), again.out());

            CliRun rf = CliRun.dalle("topics", "apply", "--bootstrap", bootstrap, "--replication-factor", "3");
            assertEquals(2, rf.exit());
            assertEquals("dalle: replication factor 3 exceeds the cluster's 1 broker(s)", rf.err().strip());
        }
    }

    @Test
    void aClusterThatDoesNotAnswerIsOneLineNamingTheAddress() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        CliRun r = CliRun.dalle("topics", "apply", "--bootstrap", "127.0.0.1:" + closed, "--timeout", "2");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("dalle: Kafka at 127.0.0.1:" + closed + ": Kafka did not answer within 2 s"), r.err());
    }

    @Test
    void aMalformedBootstrapIsRejected() {
        CliRun r = CliRun.dalle("topics", "apply", "--bootstrap", "localhost");
        assertEquals(2, r.exit());
        assertEquals("dalle: --bootstrap 'localhost' is not HOST:PORT[,HOST:PORT...]", r.err().strip());
    }

    @Test
    void applyLogsInToASaslSslBrokerWithTheKafkaKeysAndFailsWithoutThem(@TempDir Path dir) throws Exception {
        try (LocalKafka kafka = LocalKafka.builder(dir.resolve("kafka")).saslSsl(false).start()) {
            kafka.addScramUser("ops", "ops-secret");
            Path password = java.nio.file.Files.writeString(dir.resolve("ops.password"), "ops-secret\n");
            Path config = java.nio.file.Files.writeString(dir.resolve("kafka.properties"), String.join("\n",
                    "kafka.security.protocol=SASL_SSL", "kafka.sasl.mechanism=SCRAM-SHA-512",
                    "kafka.ssl.truststore.location=" + kafka.truststore(), ""));
            CliRun apply = CliRun.dalle("topics", "apply", "--bootstrap", kafka.bootstrapServers(),
                    "--kafka-config", config.toString(), "-K", "kafka.sasl.username=ops",
                    "-K", "kafka.sasl.password-file=" + password);
            assertEquals(0, apply.exit(), apply.err());
            assertTrue(apply.out().contains("(SASL_SSL, SCRAM-SHA-512 as ops, truststore "), apply.out());
            assertTrue(apply.out().contains("14 topics: 14 created"), apply.out());

            CliRun plain = CliRun.dalle("topics", "apply", "--bootstrap", kafka.bootstrapServers(), "--timeout", "3");
            assertEquals(2, plain.exit(), "a PLAINTEXT client gets nothing from a SASL_SSL listener");
            assertTrue(plain.err().contains("did not answer within 3 s"), plain.err());
        }
    }

    @Test
    void aWrongKafkaSecuritySettingIsOneLineNamingTheKey() {
        CliRun unknown = CliRun.dalle("topics", "apply", "--bootstrap", "127.0.0.1:1", "-K", "kafka.sasl.user=ops");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().startsWith("dalle: -K: unknown Kafka security key(s) [kafka.sasl.user]"), unknown.err());
        CliRun protocol = CliRun.dalle("topics", "apply", "--bootstrap", "127.0.0.1:1",
                "-K", "kafka.security.protocol=SASL_TLS");
        assertEquals(2, protocol.exit());
        assertTrue(protocol.err().startsWith("dalle: kafka.security.protocol 'SASL_TLS' is not one of"), protocol.err());
        CliRun forgotten = CliRun.dalle("topics", "apply", "--bootstrap", "127.0.0.1:1",
                "-K", "kafka.sasl.username=ops", "-K", "kafka.sasl.password=x");
        assertEquals(2, forgotten.exit());
        assertTrue(forgotten.err().contains("are set but not used with PLAINTEXT"), forgotten.err());
    }

    @Test
    void listPrintsTheRegistryWithoutABroker() {
        CliRun r = CliRun.dalle("topics", "list");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("generation-results         GenerationResult            3        14d  32.00 MiB"),
                r.out());
        assertTrue(r.out().contains("candidate-scores-dlq       original bytes              1        30d"), r.out());
    }
}
