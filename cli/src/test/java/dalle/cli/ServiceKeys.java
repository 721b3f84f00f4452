package dalle.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration keys each service reads, as the deploy tests compare them with what images, compose and
 * Kubernetes hand it: the keys of {@code services/<name>/src/main/resources/application.properties} (every key with
 * a default is there) and the keys its README's configuration table names (the optional ones), as LocalStackTest
 * checks what {@code dalle up} passes.
 */
final class ServiceKeys {

    /** A property name in backticks in a README, e.g. {@code `dalle.kafka.instance-id`}. */
    private static final Pattern README_KEY = Pattern.compile("`([a-z][a-z0-9-]*(?:\\.[a-z0-9-]+)+)`");

    private ServiceKeys() {
    }

    static Path serviceDir(String service) {
        return DeployTree.repositoryRoot().resolve("services").resolve(service);
    }

    /** The service's application.properties (profile-less keys and %profile keys alike). */
    static Properties applicationProperties(String service) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(serviceDir(service).resolve("src/main/resources/application.properties"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** Property names of the service: application.properties (no %profile keys) and its README's backticked keys. */
    static Set<String> properties(String service) {
        Set<String> keys = new TreeSet<>();
        applicationProperties(service).stringPropertyNames().stream().filter(k -> !k.startsWith("%")).forEach(keys::add);
        try {
            Matcher m = README_KEY.matcher(Files.readString(serviceDir(service).resolve("README.md")));
            while (m.find()) {
                keys.add(m.group(1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return keys;
    }

    /** The same keys in environment-variable form (MicroProfile Config: upper case, other characters '_'). */
    static Set<String> envKeys(String service) {
        Set<String> env = new TreeSet<>();
        properties(service).forEach(k -> env.add(DeployTree.envName(k)));
        return env;
    }

    /** Whether an environment variable is meant as a key of the services' configuration (and so must be one). */
    static boolean isServiceKey(String envName) {
        return envName.startsWith("DALLE_") || envName.startsWith("QUARKUS_") || envName.startsWith("KAFKA_");
    }
}
