package dalle.services.common.kafka;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The one place that turns configuration into Kafka client security properties, for every client of this
 * project: the stages' consumers and producers, the gateway's producer and Streams applications, topic set-up
 * and the CLI. Services read the keys from their Quarkus configuration (application.properties, {@code -D}, or
 * environment variables such as {@code KAFKA_SECURITY_PROTOCOL}); the CLI from {@code --kafka-config FILE},
 * {@code -K key=value} and the same environment variables.
 *
 * <p>The keys ({@link #KEYS}); every secret can come from a file (a mounted Kubernetes Secret) or, for the
 * password keys, from the value itself (e.g. an environment variable filled from a Secret):
 * <pre>
 * kafka.security.protocol                    PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
 * kafka.sasl.mechanism                       SCRAM-SHA-512 (default with SASL) | SCRAM-SHA-256 | OAUTHBEARER
 * kafka.sasl.username                        SCRAM user (a Strimzi KafkaUser's name)
 * kafka.sasl.password | -file                SCRAM password, or the file holding it
 * kafka.sasl.oauthbearer.token-endpoint-url  OAUTHBEARER: the OAuth token endpoint (client credentials grant)
 * kafka.sasl.oauthbearer.client-id           OAUTHBEARER: the client id
 * kafka.sasl.oauthbearer.client-secret | -file
 * kafka.sasl.oauthbearer.scope               OAUTHBEARER: optional scope
 * kafka.ssl.truststore.location              CA certificates: PKCS12 (.p12/.pfx), JKS (.jks) or PEM (.crt/.pem)
 * kafka.ssl.truststore.type                  PKCS12 | JKS | PEM (default: from the file name)
 * kafka.ssl.truststore.password | -file      PKCS12/JKS password (Strimzi: ca.password)
 * kafka.ssl.keystore.location                client certificate for mutual TLS: PKCS12/JKS (Strimzi: user.p12)
 * kafka.ssl.keystore.type                    PKCS12 | JKS (default: from the file name)
 * kafka.ssl.keystore.password | -file
 * kafka.ssl.keystore.certificate-file        or a PEM certificate chain (Strimzi: user.crt) ...
 * kafka.ssl.keystore.key-file                ... and its unencrypted PKCS#8 PEM key (Strimzi: user.key)
 * kafka.ssl.endpoint-identification          https (default: the broker's certificate must name its host) | none
 * </pre>
 * A wrong or inconsistent setting (an unknown protocol, SASL keys without a SASL protocol, a missing file, a
 * password both inline and from a file) fails at once with a message that names the key. Instances never print
 * their secrets ({@link #toString()} describes without them).
 */
public final class KafkaSecurity {

    public static final String PROTOCOL = "kafka.security.protocol";
    public static final String SASL_MECHANISM = "kafka.sasl.mechanism";
    public static final String SASL_USERNAME = "kafka.sasl.username";
    public static final String SASL_PASSWORD = "kafka.sasl.password";
    public static final String SASL_PASSWORD_FILE = "kafka.sasl.password-file";
    public static final String OAUTH_TOKEN_ENDPOINT = "kafka.sasl.oauthbearer.token-endpoint-url";
    public static final String OAUTH_CLIENT_ID = "kafka.sasl.oauthbearer.client-id";
    public static final String OAUTH_CLIENT_SECRET = "kafka.sasl.oauthbearer.client-secret";
    public static final String OAUTH_CLIENT_SECRET_FILE = "kafka.sasl.oauthbearer.client-secret-file";
    public static final String OAUTH_SCOPE = "kafka.sasl.oauthbearer.scope";
    public static final String TRUSTSTORE = "kafka.ssl.truststore.location";
    public static final String TRUSTSTORE_TYPE = "kafka.ssl.truststore.type";
    public static final String TRUSTSTORE_PASSWORD = "kafka.ssl.truststore.password";
    public static final String TRUSTSTORE_PASSWORD_FILE = "kafka.ssl.truststore.password-file";
    public static final String KEYSTORE = "kafka.ssl.keystore.location";
    public static final String KEYSTORE_TYPE = "kafka.ssl.keystore.type";
    public static final String KEYSTORE_PASSWORD = "kafka.ssl.keystore.password";
    public static final String KEYSTORE_PASSWORD_FILE = "kafka.ssl.keystore.password-file";
    public static final String KEYSTORE_CERTIFICATE_FILE = "kafka.ssl.keystore.certificate-file";
    public static final String KEYSTORE_KEY_FILE = "kafka.ssl.keystore.key-file";
    public static final String ENDPOINT_IDENTIFICATION = "kafka.ssl.endpoint-identification";

    /** Every key this class reads. */
    public static final Set<String> KEYS = Set.of(PROTOCOL, SASL_MECHANISM, SASL_USERNAME, SASL_PASSWORD,
            SASL_PASSWORD_FILE, OAUTH_TOKEN_ENDPOINT, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CLIENT_SECRET_FILE,
            OAUTH_SCOPE, TRUSTSTORE, TRUSTSTORE_TYPE, TRUSTSTORE_PASSWORD, TRUSTSTORE_PASSWORD_FILE, KEYSTORE,
            KEYSTORE_TYPE, KEYSTORE_PASSWORD, KEYSTORE_PASSWORD_FILE, KEYSTORE_CERTIFICATE_FILE, KEYSTORE_KEY_FILE,
            ENDPOINT_IDENTIFICATION);

    /** Kafka 4 refuses an OAuth token endpoint that this JVM property does not list. */
    static final String OAUTH_ALLOWED_URLS = "org.apache.kafka.sasl.oauthbearer.allowed.urls";

    private static final List<String> PROTOCOLS = List.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    private static final List<String> MECHANISMS = List.of("SCRAM-SHA-512", "SCRAM-SHA-256", "OAUTHBEARER");
    private static final List<String> STORE_TYPES = List.of("PKCS12", "JKS", "PEM");

    /** No security: the local stack and the tests. */
    public static final KafkaSecurity PLAINTEXT = new KafkaSecurity("PLAINTEXT", Map.of(), "PLAINTEXT");

    private final String protocol;
    private final Map<String, String> properties;
    private final String description;

    private KafkaSecurity(String protocol, Map<String, String> properties, String description) {
        this.protocol = protocol;
        this.properties = Map.copyOf(properties);
        this.description = description;
    }

    /**
     * Reads the keys through {@code lookup} (a key to its value, empty when unset; a blank value counts as unset).
     *
     * @throws IllegalArgumentException naming the key, when a value is wrong or the settings do not fit together
     */
    public static KafkaSecurity from(Function<String, Optional<String>> lookup) {
        return new Reader(lookup).read();
    }

    /** From a map of the keys (e.g. a properties file), with no other source. */
    public static KafkaSecurity fromMap(Map<String, String> values) {
        return from(k -> Optional.ofNullable(values.get(k)));
    }

    /**
     * The environment variable of a key, as MicroProfile Config (and so Quarkus) maps it: every character other
     * than a letter or digit becomes {@code _}, upper case ({@code kafka.sasl.password-file} is
     * {@code KAFKA_SASL_PASSWORD_FILE}).
     */
    public static String environmentVariable(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** The security protocol, e.g. SASL_SSL. */
    public String protocol() {
        return protocol;
    }

    /** The Kafka client properties ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}); empty for PLAINTEXT. */
    public Map<String, String> properties() {
        return properties;
    }

    /** These properties and then {@code more} (client settings a caller needs beside security). */
    public Map<String, Object> with(Map<String, ?> more) {
        Map<String, Object> m = new LinkedHashMap<>(properties);
        m.putAll(more);
        return m;
    }

    /** What is set, without secrets: "SASL_SSL, SCRAM-SHA-512 as dalle-tokenizer, truststore /etc/kafka-ca/ca.p12". */
    @Override
    public String toString() {
        return description;
    }

    /** Reads and checks the keys; every message names the key at fault. */
    private static final class Reader {
        private final Function<String, Optional<String>> lookup;
        private final Map<String, String> p = new LinkedHashMap<>();
        private final List<String> said = new ArrayList<>();

        Reader(Function<String, Optional<String>> lookup) {
            this.lookup = lookup;
        }

        KafkaSecurity read() {
            String protocol = get(PROTOCOL).map(v -> v.trim().toUpperCase(Locale.ROOT)).orElse("PLAINTEXT");
            if (!PROTOCOLS.contains(protocol)) {
                throw bad(PROTOCOL, get(PROTOCOL).orElseThrow(), "is not one of " + PROTOCOLS);
            }
            boolean sasl = protocol.startsWith("SASL_");
            boolean ssl = protocol.endsWith("SSL");
            said.add(protocol);
            if (!protocol.equals("PLAINTEXT")) {
                p.put("security.protocol", protocol);
            }
            if (sasl) {
                sasl();
            } else {
                refuse(protocol + " (no SASL)", SASL_MECHANISM, SASL_USERNAME, SASL_PASSWORD, SASL_PASSWORD_FILE,
                        OAUTH_TOKEN_ENDPOINT, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CLIENT_SECRET_FILE,
                        OAUTH_SCOPE);
            }
            if (ssl) {
                ssl();
            } else {
                refuse(protocol + " (no TLS)", TRUSTSTORE, TRUSTSTORE_TYPE, TRUSTSTORE_PASSWORD,
                        TRUSTSTORE_PASSWORD_FILE, KEYSTORE, KEYSTORE_TYPE, KEYSTORE_PASSWORD, KEYSTORE_PASSWORD_FILE,
                        KEYSTORE_CERTIFICATE_FILE, KEYSTORE_KEY_FILE, ENDPOINT_IDENTIFICATION);
            }
            return new KafkaSecurity(protocol, p, String.join(", ", said));
        }

        private void sasl() {
            String mechanism = get(SASL_MECHANISM).map(v -> v.trim().toUpperCase(Locale.ROOT))
                    .orElse("SCRAM-SHA-512");
            if (!MECHANISMS.contains(mechanism)) {
                throw bad(SASL_MECHANISM, get(SASL_MECHANISM).orElseThrow(), "is not one of " + MECHANISMS);
            }
            p.put("sasl.mechanism", mechanism);
            if (mechanism.startsWith("SCRAM-")) {
                refuse(mechanism, OAUTH_TOKEN_ENDPOINT, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CLIENT_SECRET_FILE,
                        OAUTH_SCOPE);
                String user = require(SASL_USERNAME, mechanism + " needs the user name");
                String password = secret(SASL_PASSWORD, SASL_PASSWORD_FILE)
                        .orElseThrow(() -> new IllegalArgumentException(mechanism + " needs " + SASL_PASSWORD
                                + " or " + SASL_PASSWORD_FILE + " (the user's password) beside " + SASL_USERNAME));
                p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=" + quote(user) + " password=" + quote(password) + ";");
                said.add(mechanism + " as " + user);
            } else {
                refuse(mechanism, SASL_USERNAME, SASL_PASSWORD, SASL_PASSWORD_FILE);
                String endpoint = require(OAUTH_TOKEN_ENDPOINT, "OAUTHBEARER needs the OAuth token endpoint");
                URI uri;
                try {
                    uri = URI.create(endpoint.trim());
                } catch (IllegalArgumentException e) {
                    throw bad(OAUTH_TOKEN_ENDPOINT, endpoint, "is not a URL (" + e.getMessage() + ")");
                }
                if (uri.getScheme() == null || !List.of("https", "http").contains(uri.getScheme())
                        || uri.getHost() == null) {
                    throw bad(OAUTH_TOKEN_ENDPOINT, endpoint, "is not an http(s) URL with a host");
                }
                String clientId = require(OAUTH_CLIENT_ID, "OAUTHBEARER needs the OAuth client id");
                String clientSecret = secret(OAUTH_CLIENT_SECRET, OAUTH_CLIENT_SECRET_FILE)
                        .orElseThrow(() -> new IllegalArgumentException("OAUTHBEARER needs " + OAUTH_CLIENT_SECRET
                                + " or " + OAUTH_CLIENT_SECRET_FILE + " (the OAuth client secret)"));
                StringBuilder jaas = new StringBuilder(
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required")
                        .append(" clientId=").append(quote(clientId))
                        .append(" clientSecret=").append(quote(clientSecret));
                get(OAUTH_SCOPE).ifPresent(s -> jaas.append(" scope=").append(quote(s.trim())));
                p.put("sasl.jaas.config", jaas.append(';').toString());
                p.put("sasl.login.callback.handler.class",
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler");
                p.put("sasl.oauthbearer.token.endpoint.url", uri.toString());
                allowTokenEndpoint(uri.toString());
                said.add("OAUTHBEARER as " + clientId + " from " + uri);
            }
        }

        private void ssl() {
            get(TRUSTSTORE).ifPresent(location -> {
                Path file = readableFile(TRUSTSTORE, location);
                String type = storeType(TRUSTSTORE_TYPE, TRUSTSTORE, file);
                p.put("ssl.truststore.location", file.toString());
                p.put("ssl.truststore.type", type);
                Optional<String> password = secret(TRUSTSTORE_PASSWORD, TRUSTSTORE_PASSWORD_FILE);
                if (type.equals("PEM") && password.isPresent()) {
                    throw new IllegalArgumentException(TRUSTSTORE_PASSWORD + " is set but the truststore " + file
                            + " is PEM, which has no password");
                }
                password.ifPresent(v -> p.put("ssl.truststore.password", v));
                said.add("truststore " + file);
            });
            if (get(TRUSTSTORE).isEmpty()) {
                refuse("no " + TRUSTSTORE, TRUSTSTORE_TYPE, TRUSTSTORE_PASSWORD, TRUSTSTORE_PASSWORD_FILE);
                said.add("the JVM's default truststore");
            }
            Optional<String> keystore = get(KEYSTORE);
            Optional<String> certificate = get(KEYSTORE_CERTIFICATE_FILE);
            Optional<String> key = get(KEYSTORE_KEY_FILE);
            if (keystore.isPresent() && (certificate.isPresent() || key.isPresent())) {
                throw new IllegalArgumentException(KEYSTORE + " and " + (certificate.isPresent()
                        ? KEYSTORE_CERTIFICATE_FILE : KEYSTORE_KEY_FILE) + " are both set: give the client"
                        + " certificate one way, a PKCS12/JKS keystore or a PEM certificate and key");
            }
            if (keystore.isPresent()) {
                Path file = readableFile(KEYSTORE, keystore.get());
                String type = storeType(KEYSTORE_TYPE, KEYSTORE, file);
                if (type.equals("PEM")) {
                    throw bad(KEYSTORE_TYPE, type, "is not for " + KEYSTORE + ": give a PEM certificate and key as "
                            + KEYSTORE_CERTIFICATE_FILE + " and " + KEYSTORE_KEY_FILE);
                }
                String password = secret(KEYSTORE_PASSWORD, KEYSTORE_PASSWORD_FILE)
                        .orElseThrow(() -> new IllegalArgumentException(KEYSTORE + " needs " + KEYSTORE_PASSWORD
                                + " or " + KEYSTORE_PASSWORD_FILE));
                p.put("ssl.keystore.location", file.toString());
                p.put("ssl.keystore.type", type);
                p.put("ssl.keystore.password", password);
                said.add("client certificate " + file);
            } else if (certificate.isPresent() || key.isPresent()) {
                if (certificate.isEmpty() || key.isEmpty()) {
                    throw new IllegalArgumentException((certificate.isEmpty() ? KEYSTORE_KEY_FILE
                            : KEYSTORE_CERTIFICATE_FILE) + " is set without " + (certificate.isEmpty()
                            ? KEYSTORE_CERTIFICATE_FILE : KEYSTORE_KEY_FILE) + ": a PEM client certificate needs both");
                }
                refuse(KEYSTORE_CERTIFICATE_FILE, KEYSTORE_TYPE, KEYSTORE_PASSWORD, KEYSTORE_PASSWORD_FILE);
                String chain = pem(KEYSTORE_CERTIFICATE_FILE, certificate.get(), "CERTIFICATE");
                String pkcs8 = pem(KEYSTORE_KEY_FILE, key.get(), "PRIVATE KEY");
                p.put("ssl.keystore.type", "PEM");
                p.put("ssl.keystore.certificate.chain", chain);
                p.put("ssl.keystore.key", pkcs8);
                said.add("client certificate " + certificate.get());
            } else {
                refuse("no client certificate", KEYSTORE_TYPE, KEYSTORE_PASSWORD, KEYSTORE_PASSWORD_FILE);
            }
            String identification = get(ENDPOINT_IDENTIFICATION).map(v -> v.trim().toLowerCase(Locale.ROOT))
                    .orElse("https");
            switch (identification) {
                case "https" -> { } // Kafka's default
                case "none" -> {
                    p.put("ssl.endpoint.identification.algorithm", "");
                    said.add("no host name check");
                }
                default -> throw bad(ENDPOINT_IDENTIFICATION, identification, "is not https or none");
            }
        }

        private Optional<String> get(String key) {
            return lookup.apply(key).filter(v -> !v.isBlank());
        }

        private String require(String key, String why) {
            return get(key).map(String::trim)
                    .orElseThrow(() -> new IllegalArgumentException(why + ": set " + key));
        }

        /** The value of {@code key}, or the content of the file that {@code fileKey} names; not both. */
        private Optional<String> secret(String key, String fileKey) {
            Optional<String> inline = get(key);
            Optional<String> file = get(fileKey);
            if (inline.isPresent() && file.isPresent()) {
                throw new IllegalArgumentException(key + " and " + fileKey + " are both set: give one");
            }
            if (file.isEmpty()) {
                return inline;
            }
            Path path = readableFile(fileKey, file.get());
            try {
                String value = Files.readString(path, StandardCharsets.UTF_8).strip();
                if (value.isEmpty()) {
                    throw bad(fileKey, file.get(), "is an empty file");
                }
                return Optional.of(value);
            } catch (IOException e) {
                throw bad(fileKey, file.get(), "cannot be read (" + e + ")");
            }
        }

        private Path readableFile(String key, String value) {
            Path path = Path.of(value.trim()).toAbsolutePath();
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                throw bad(key, value, "is not a readable file");
            }
            return path;
        }

        /** The content of a PEM file holding at least one {@code -----BEGIN <label>-----} block. */
        private String pem(String key, String value, String label) {
            Path file = readableFile(key, value);
            try {
                String text = Files.readString(file, StandardCharsets.US_ASCII);
                if (!text.contains("-----BEGIN " + label + "-----")) {
                    throw bad(key, value, "holds no '-----BEGIN " + label + "-----' block"
                            + (label.equals("PRIVATE KEY") ? " (an unencrypted PKCS#8 key)" : ""));
                }
                return text;
            } catch (IOException e) {
                throw bad(key, value, "cannot be read (" + e + ")");
            }
        }

        private String storeType(String typeKey, String locationKey, Path file) {
            Optional<String> given = get(typeKey).map(v -> v.trim().toUpperCase(Locale.ROOT));
            if (given.isPresent()) {
                if (!STORE_TYPES.contains(given.get())) {
                    throw bad(typeKey, get(typeKey).orElseThrow(), "is not one of " + STORE_TYPES);
                }
                return given.get();
            }
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".p12") || name.endsWith(".pfx") || name.endsWith(".pkcs12")) {
                return "PKCS12";
            }
            if (name.endsWith(".jks")) {
                return "JKS";
            }
            if (name.endsWith(".pem") || name.endsWith(".crt") || name.endsWith(".cer")) {
                return "PEM";
            }
            throw new IllegalArgumentException(locationKey + " '" + file + "': cannot tell its type from the name;"
                    + " set " + typeKey + " to one of " + STORE_TYPES);
        }

        private void refuse(String because, String... keys) {
            Set<String> set = new TreeSet<>();
            for (String k : keys) {
                if (get(k).isPresent()) {
                    set.add(k);
                }
            }
            if (!set.isEmpty()) {
                throw new IllegalArgumentException(String.join(", ", set) + (set.size() == 1 ? " is" : " are")
                        + " set but not used with " + because + "; set " + PROTOCOL + " (now "
                        + get(PROTOCOL).orElse("PLAINTEXT, the default") + ") or remove "
                        + (set.size() == 1 ? "it" : "them"));
            }
        }

        private static IllegalArgumentException bad(String key, String value, String problem) {
            return new IllegalArgumentException(key + " '" + value + "' " + problem);
        }
    }

    /** A JAAS option value: double-quoted, with backslashes and quotes escaped. */
    static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** Adds the endpoint to the JVM's allowed OAuth URLs (Kafka 4 refuses any other), keeping what is there. */
    private static synchronized void allowTokenEndpoint(String url) {
        String now = System.getProperty(OAUTH_ALLOWED_URLS, "");
        List<String> urls = new ArrayList<>();
        for (String u : now.split(",")) {
            if (!u.isBlank()) {
                urls.add(u.trim());
            }
        }
        if (!urls.contains(url)) {
            urls.add(url);
            System.setProperty(OAUTH_ALLOWED_URLS, String.join(",", urls));
        }
    }
}
