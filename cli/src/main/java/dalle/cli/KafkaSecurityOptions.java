package dalle.cli;

import dalle.services.common.kafka.KafkaSecurity;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * The Kafka security of a command that connects to a cluster, with the keys the services use
 * ({@link KafkaSecurity}): {@code -K key=value} first, then {@code --kafka-config FILE} (a properties file of the
 * keys), then the environment ({@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_PASSWORD_FILE}, ...). Nothing
 * set means PLAINTEXT.
 */
final class KafkaSecurityOptions {

    @Option(names = {"-K", "--kafka"}, paramLabel = "KEY=VALUE",
            description = {"A Kafka security setting, e.g. -K kafka.security.protocol=SASL_SSL "
                    + "-K kafka.sasl.username=batch-client -K kafka.sasl.password-file=/secrets/password "
                    + "-K kafka.ssl.truststore.location=ca.p12 -K kafka.ssl.truststore.password-file=ca.password;",
                    "the keys of services/README.md (also read from KAFKA_* environment variables)."})
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "A properties file of Kafka security settings (the -K keys).")
    Path configFile;

    /** The security these options, the file and the environment describe. */
    KafkaSecurity security() {
        return security(System::getenv);
    }

    KafkaSecurity security(Function<String, String> environment) {
        Map<String, String> file = new LinkedHashMap<>();
        if (configFile != null) {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("--kafka-config " + configFile + ": cannot be read (" + e + ")", e);
            }
            p.stringPropertyNames().forEach(k -> file.put(k, p.getProperty(k)));
            unknown("--kafka-config " + configFile, file);
        }
        unknown("-K", settings);
        return KafkaSecurity.from(key -> Optional.ofNullable(settings.get(key))
                .or(() -> Optional.ofNullable(file.get(key)))
                .or(() -> Optional.ofNullable(environment.apply(KafkaSecurity.environmentVariable(key)))));
    }

    private static void unknown(String where, Map<String, String> values) {
        TreeSet<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(KafkaSecurity.KEYS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(where + ": unknown Kafka security key(s) " + unknown + "; the keys are "
                    + new TreeSet<>(KafkaSecurity.KEYS));
        }
    }
}
