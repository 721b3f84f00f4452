package dalle.services.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration keys turned into Kafka client properties, and every wrong setting named by its key. */
class KafkaSecurityTest {

    @Test
    void nothingSetIsPlaintextWithNoProperties() {
        KafkaSecurity s = KafkaSecurity.fromMap(Map.of());
        assertEquals("PLAINTEXT", s.protocol());
        assertTrue(s.properties().isEmpty());
    }

    @Test
    void scramOverTlsFromSecretFilesIsWhatAStrimziUserNeeds(@TempDir Path dir) throws Exception {
        Path password = Files.writeString(dir.resolve("password"), "p\"a\\ss\n");
        Path ca = Files.writeString(dir.resolve("ca.p12"), "not parsed here");
        Path caPassword = Files.writeString(dir.resolve("ca.password"), "capw");
        KafkaSecurity s = KafkaSecurity.fromMap(Map.of(
                "kafka.security.protocol", "sasl_ssl",
                "kafka.sasl.username", "dalle-tokenizer",
                "kafka.sasl.password-file", password.toString(),
                "kafka.ssl.truststore.location", ca.toString(),
                "kafka.ssl.truststore.password-file", caPassword.toString()));
        Map<String, String> p = s.properties();
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", p.get("sasl.mechanism"));
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"dalle-tokenizer\""
                + " password=\"p\\\"a\\\\ss\";", p.get("sasl.jaas.config"));
        assertEquals("PKCS12", p.get("ssl.truststore.type"));
        assertEquals("capw", p.get("ssl.truststore.password"));
        assertFalse(p.containsKey("ssl.endpoint.identification.algorithm"), "host name checks stay on");
        // Kafka itself parses the JAAS line back to the same user and password (the escapes are right)
        JaasContext jaas = JaasContext.loadClientContext(Map.of(SaslConfigs.SASL_JAAS_CONFIG,
                new Password(p.get("sasl.jaas.config"))));
        Map<String, ?> options = jaas.configurationEntries().get(0).getOptions();
        assertEquals("dalle-tokenizer", options.get("username"));
        assertEquals("p\"a\\ss", options.get("password"));
        assertFalse(s.toString().contains("p\"a"), "no secret in " + s);
        // and every client kind accepts the properties
        Map<String, Object> all = s.with(Map.of("bootstrap.servers", "k:9093"));
        new ProducerConfig(withSerializers(all, true));
        new ConsumerConfig(withSerializers(all, false));
        new AdminClientConfig(all);
    }

    @Test
    void pemTrustAndAClientCertificateFromStrimziUserFilesForMutualTls(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
        Path crt = Files.writeString(dir.resolve("user.crt"), "-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----\n");
        Path key = Files.writeString(dir.resolve("user.key"), "-----BEGIN PRIVATE KEY-----\nAC==\n-----END PRIVATE KEY-----\n");
        Map<String, String> p = KafkaSecurity.fromMap(Map.of(
                "kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", ca.toString(),
                "kafka.ssl.keystore.certificate-file", crt.toString(),
                "kafka.ssl.keystore.key-file", key.toString(),
                "kafka.ssl.endpoint-identification", "none")).properties();
        assertEquals("SSL", p.get("security.protocol"));
        assertEquals("PEM", p.get("ssl.truststore.type"));
        assertEquals("PEM", p.get("ssl.keystore.type"));
        assertTrue(p.get(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG).contains("AB=="));
        assertTrue(p.get(SslConfigs.SSL_KEYSTORE_KEY_CONFIG).contains("AC=="));
        assertEquals("", p.get("ssl.endpoint.identification.algorithm"));
        assertFalse(p.containsKey("sasl.mechanism"));
    }

    @Test
    void oauthBearerUsesTheTokenEndpointWithClientCredentials(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret");
        KafkaSecurity s = KafkaSecurity.fromMap(Map.of(
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", "OAUTHBEARER",
                "kafka.sasl.oauthbearer.token-endpoint-url", "https://sso.example/realms/kafka/token",
                "kafka.sasl.oauthbearer.client-id", "dalle-gateway",
                "kafka.sasl.oauthbearer.client-secret-file", secret.toString(),
                "kafka.sasl.oauthbearer.scope", "kafka"));
        Map<String, String> p = s.properties();
        assertEquals("OAUTHBEARER", p.get("sasl.mechanism"));
        assertEquals("https://sso.example/realms/kafka/token", p.get("sasl.oauthbearer.token.endpoint.url"));
        assertEquals("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
                p.get("sasl.login.callback.handler.class"));
        assertEquals("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
                + " clientId=\"dalle-gateway\" clientSecret=\"s3cret\" scope=\"kafka\";", p.get("sasl.jaas.config"));
        assertTrue(System.getProperty(KafkaSecurity.OAUTH_ALLOWED_URLS).contains("https://sso.example/realms/kafka/token"),
                "Kafka 4 refuses a token endpoint the JVM does not allow");
        new ProducerConfig(withSerializers(s.with(Map.of("bootstrap.servers", "k:9093")), true));
    }

    @Test
    void everyWrongSettingFailsNamingItsKey(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "x");
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        Path odd = Files.writeString(dir.resolve("ca.bin"), "x");
        assertFails("kafka.security.protocol 'SASL_TLS' is not one of", Map.of("kafka.security.protocol", "SASL_TLS"));
        assertFails("kafka.sasl.mechanism 'PLAIN' is not one of",
                Map.of("kafka.security.protocol", "SASL_SSL", "kafka.sasl.mechanism", "PLAIN"));
        assertFails("SCRAM-SHA-512 needs the user name: set kafka.sasl.username",
                Map.of("kafka.security.protocol", "SASL_SSL"));
        assertFails("SCRAM-SHA-512 needs kafka.sasl.password or kafka.sasl.password-file",
                Map.of("kafka.security.protocol", "SASL_SSL", "kafka.sasl.username", "u"));
        assertFails("kafka.sasl.password and kafka.sasl.password-file are both set", Map.of(
                "kafka.security.protocol", "SASL_PLAINTEXT", "kafka.sasl.username", "u",
                "kafka.sasl.password", "p", "kafka.sasl.password-file", pw.toString()));
        assertFails("kafka.sasl.password-file '/nowhere/pw' is not a readable file", Map.of(
                "kafka.security.protocol", "SASL_PLAINTEXT", "kafka.sasl.username", "u",
                "kafka.sasl.password-file", "/nowhere/pw"));
        assertFails("kafka.sasl.password-file '" + empty + "' is an empty file", Map.of(
                "kafka.security.protocol", "SASL_PLAINTEXT", "kafka.sasl.username", "u",
                "kafka.sasl.password-file", empty.toString()));
        // credentials given but the protocol forgotten: refused, not silently PLAINTEXT
        assertFails("kafka.sasl.password, kafka.sasl.username are set but not used with PLAINTEXT (no SASL); set"
                + " kafka.security.protocol (now PLAINTEXT, the default)",
                Map.of("kafka.sasl.username", "u", "kafka.sasl.password", "p"));
        assertFails("kafka.ssl.truststore.location is set but not used with SASL_PLAINTEXT (no TLS)", Map.of(
                "kafka.security.protocol", "SASL_PLAINTEXT", "kafka.sasl.username", "u", "kafka.sasl.password", "p",
                "kafka.ssl.truststore.location", pw.toString()));
        assertFails("kafka.ssl.truststore.location '" + odd.toAbsolutePath() + "': cannot tell its type from the name;"
                + " set kafka.ssl.truststore.type", Map.of("kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", odd.toString()));
        assertFails("kafka.ssl.truststore.type 'P12' is not one of", Map.of("kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", odd.toString(), "kafka.ssl.truststore.type", "P12"));
        assertFails("kafka.ssl.endpoint-identification 'off' is not https or none",
                Map.of("kafka.security.protocol", "SSL", "kafka.ssl.endpoint-identification", "off"));
        assertFails("kafka.ssl.keystore.key-file is set without kafka.ssl.keystore.certificate-file",
                Map.of("kafka.security.protocol", "SSL", "kafka.ssl.keystore.key-file", pw.toString()));
        assertFails("kafka.ssl.keystore.certificate-file '" + pw + "' holds no '-----BEGIN CERTIFICATE-----' block",
                Map.of("kafka.security.protocol", "SSL", "kafka.ssl.keystore.key-file", pw.toString(),
                        "kafka.ssl.keystore.certificate-file", pw.toString()));
        assertFails("kafka.sasl.username is set but not used with OAUTHBEARER", Map.of(
                "kafka.security.protocol", "SASL_SSL", "kafka.sasl.mechanism", "OAUTHBEARER",
                "kafka.sasl.username", "u"));
        assertFails("kafka.sasl.oauthbearer.token-endpoint-url 'sso.example/token' is not an http(s) URL", Map.of(
                "kafka.security.protocol", "SASL_SSL", "kafka.sasl.mechanism", "OAUTHBEARER",
                "kafka.sasl.oauthbearer.token-endpoint-url", "sso.example/token"));
    }

    @Test
    void environmentVariablesAreTheMicroProfileNames() {
        assertEquals("KAFKA_SASL_PASSWORD_FILE", KafkaSecurity.environmentVariable("kafka.sasl.password-file"));
        assertEquals("KAFKA_SECURITY_PROTOCOL", KafkaSecurity.environmentVariable(KafkaSecurity.PROTOCOL));
    }

    private static void assertFails(String message, Map<String, String> values) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaSecurity.fromMap(values));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    private static Map<String, Object> withSerializers(Map<String, Object> c, boolean producer) {
        Map<String, Object> m = new HashMap<>(c);
        String ser = "org.apache.kafka.common.serialization.ByteArray" + (producer ? "Serializer" : "Deserializer");
        if (producer) {
            m.put("key.serializer", ser);
            m.put("value.serializer", ser);
        } else {
            m.put("key.deserializer", ser);
            m.put("value.deserializer", ser);
        }
        return m;
    }
}
