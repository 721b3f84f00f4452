package dalle.services.common;

import dalle.services.common.kafka.KafkaAccess;
import dalle.services.common.kafka.KafkaSecurity;
import dalle.tools.localkafka.LocalKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;

/**
 * A second test broker (exported in the test-jar beside {@link TestBroker}): SASL_SSL only (SCRAM-SHA-512 over
 * TLS with a certificate made at start), Kafka's StandardAuthorizer on, the registry's topics, and one SCRAM user
 * per principal of {@link KafkaAccess} holding exactly that principal's grants as ACLs. One per test JVM, started
 * on first use, files in {@code target/kafka-sasl-ssl-test}.
 */
public final class SecureTestBroker {

    private static LocalKafka kafka;

    private SecureTestBroker() {
    }

    /** The broker, started (with its topics, users and ACLs) on first use. */
    public static synchronized LocalKafka kafka() {
        if (kafka == null) {
            try {
                Path dir = Path.of("target", "kafka-sasl-ssl-test");
                TestBroker.deleteTree(dir);
                LocalKafka k = LocalKafka.builder(dir).saslSsl(true).start();
                try (Admin admin = Admin.create(TopicSetup.adminConfig(k.bootstrapServers(), TestBroker.TIMEOUT,
                        KafkaSecurity.fromMap(keys(k, k.adminUser(), k.adminPassword()))))) {
                    new TopicSetup(admin, (short) 1, TestBroker.TIMEOUT).apply(false);
                    List<AclBinding> acls = new ArrayList<>();
                    for (var e : KafkaAccess.all().entrySet()) {
                        k.addScramUser(e.getKey(), password(e.getKey()));
                        acls.addAll(KafkaAccess.aclBindings(e.getKey(), e.getValue()));
                    }
                    admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
                }
                kafka = k;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (Exception e) {
                throw new IllegalStateException("cannot set up the SASL_SSL test broker: " + e, e);
            }
        }
        return kafka;
    }

    /** The bootstrap address (SASL_SSL). */
    public static String bootstrap() {
        return kafka().bootstrapServers();
    }

    /** The test password of a principal of {@link KafkaAccess}. */
    public static String password(String principal) {
        return principal + "-test-password";
    }

    /**
     * The configuration keys (kafka.security.protocol, kafka.sasl.*, kafka.ssl.*) as a service of {@code principal}
     * would be given them, the password in a file as a mounted Secret would hold it.
     */
    public static Map<String, String> keys(String principal) {
        return keys(kafka(), principal, password(principal));
    }

    private static Map<String, String> keys(LocalKafka k, String user, String password) {
        try {
            Path file = k.dataDir().resolve("secrets").resolve(user + ".password");
            Files.createDirectories(file.getParent());
            Files.writeString(file, password + "\n");
            Map<String, String> m = new HashMap<>();
            m.put(KafkaSecurity.PROTOCOL, "SASL_SSL");
            m.put(KafkaSecurity.SASL_MECHANISM, "SCRAM-SHA-512");
            m.put(KafkaSecurity.SASL_USERNAME, user);
            m.put(KafkaSecurity.SASL_PASSWORD_FILE, file.toAbsolutePath().toString());
            m.put(KafkaSecurity.TRUSTSTORE, k.truststore().toAbsolutePath().toString());
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An admin client as the broker's super user. */
    public static Admin admin() {
        Map<String, Object> c = new HashMap<>(kafka().adminProperties());
        c.put("default.api.timeout.ms", (int) Duration.ofSeconds(30).toMillis());
        return Admin.create(c);
    }
}
