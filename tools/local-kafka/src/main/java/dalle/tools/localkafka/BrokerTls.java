package dalle.tools.localkafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TLS and SCRAM material of a SASL_SSL {@link LocalKafka}, under {@code <data>/tls/}, made once per data
 * folder with the JDK's {@code keytool} (no download, no extra library): a self-signed EC certificate for
 * {@code 127.0.0.1}/{@code localhost} in {@code broker.p12}, the same certificate as the clients' PEM truststore
 * {@code ca.crt}, the keystore's password, and the password of the broker's own SCRAM-SHA-512 user
 * {@value #ADMIN} (a super user, written into the storage at format time).
 */
final class BrokerTls {

    /** The broker's own user: inter-broker traffic, and the tests' administrator. */
    static final String ADMIN = "admin";

    private final Path dir;
    private final String storePassword;
    private final String adminPassword;
    private final boolean authorizer;

    private BrokerTls(Path dir, String storePassword, String adminPassword, boolean authorizer) {
        this.dir = dir;
        this.storePassword = storePassword;
        this.adminPassword = adminPassword;
        this.authorizer = authorizer;
    }

    /** The material under {@code dir}, generated there if it is not yet. */
    static BrokerTls ensure(Path dir, boolean authorizer, java.time.Duration timeout) throws IOException {
        Files.createDirectories(dir);
        Path store = dir.resolve("store.password");
        Path admin = dir.resolve("admin.password");
        if (!Files.exists(dir.resolve("broker.p12")) || !Files.exists(dir.resolve("ca.crt"))
                || !Files.exists(store) || !Files.exists(admin)) {
            Files.deleteIfExists(dir.resolve("broker.p12"));
            Files.writeString(store, random(), StandardCharsets.UTF_8); // passwords by file: not on a command line
            keytool(dir, timeout, "-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost", "-validity", "30",
                    "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-storetype", "PKCS12", "-keystore", "broker.p12",
                    "-storepass:file", "store.password", "-keypass:file", "store.password");
            keytool(dir, timeout, "-exportcert", "-rfc", "-alias", "broker", "-keystore", "broker.p12",
                    "-storetype", "PKCS12", "-storepass:file", "store.password", "-file", "ca.crt");
            if (!Files.exists(admin)) {
                Files.writeString(admin, random(), StandardCharsets.UTF_8);
            }
        }
        return new BrokerTls(dir, Files.readString(store).strip(), Files.readString(admin).strip(), authorizer);
    }

    /** The clients' truststore: the broker's certificate, PEM. */
    Path truststore() {
        return dir.resolve("ca.crt");
    }

    String adminPassword() {
        return adminPassword;
    }

    boolean authorizer() {
        return authorizer;
    }

    /** The lines server.properties needs for the SASL_SSL listener (and the authorizer, if on). */
    List<String> serverProperties() {
        List<String> lines = new ArrayList<>(List.of(
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                        + "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + ADMIN
                        + "\" password=\"" + adminPassword + "\";",
                "ssl.keystore.location=" + dir.resolve("broker.p12").toAbsolutePath(),
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.password=" + storePassword,
                "ssl.key.password=" + storePassword,
                "ssl.truststore.location=" + truststore().toAbsolutePath(),
                "ssl.truststore.type=PEM"));
        if (authorizer) {
            lines.add("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            // the controller listener (127.0.0.1, internal) is PLAINTEXT, so its principal is ANONYMOUS
            lines.add("super.users=User:" + ADMIN + ";User:ANONYMOUS");
        }
        return lines;
    }

    /** The StorageTool arguments that write the admin's SCRAM credential into the new storage. */
    List<String> formatArguments() {
        return List.of("--add-scram", "SCRAM-SHA-512=[name=" + ADMIN + ",password=" + adminPassword + "]");
    }

    private static String random() {
        SecureRandom r = new SecureRandom();
        StringBuilder s = new StringBuilder();
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (int i = 0; i < 24; i++) {
            s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    private static void keytool(Path dir, java.time.Duration timeout, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Path log = dir.resolve("keytool.log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("keytool " + args[0] + " took longer than " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running keytool", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("keytool " + args[0] + " failed (exit code " + p.exitValue() + "); see " + log
                    + LogTail.of(log, 10));
        }
    }
}
