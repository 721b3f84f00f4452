package dalle.services.common.tls;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for TLS tests, made at test time with the JDK's keytool (no openssl, nothing downloaded) and
 * written as the PEM files a cert-manager Secret holds: {@code name.crt} and a PKCS#8 {@code name.key}.
 */
public final class TestCertificates {

    /** A certificate and its key as PEM files. */
    public record Pem(Path certificate, Path key) {
    }

    private TestCertificates() {
    }

    /**
     * A self-signed EC certificate, valid two days.
     *
     * @param san keytool's extension, e.g. {@code SAN=DNS:localhost,IP:127.0.0.1}; null for none
     */
    public static Pem selfSigned(Path dir, String name, String san) throws IOException, InterruptedException {
        Path store = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        List<String> cmd = new ArrayList<>(List.of(keytool, "-genkeypair", "-alias", name, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=" + name, "-validity", "2", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit"));
        if (san != null) {
            cmd.addAll(List.of("-ext", san));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + out);
        }
        try (FileInputStream in = new FileInputStream(store.toFile())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, "changeit".toCharArray());
            Certificate cert = ks.getCertificate(name);
            byte[] key = ks.getKey(name, "changeit".toCharArray()).getEncoded();
            Path certPem = dir.resolve(name + ".crt");
            Path keyPem = dir.resolve(name + ".key");
            Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(keyPem, pem("PRIVATE KEY", key));
            return new Pem(certPem, keyPem);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("reading " + store + ": " + e.getMessage(), e);
        }
    }

    /**
     * A PKCS#12 trust store holding {@code certificate}, as Quarkus' separate gRPC server needs one for client
     * certificates (it reads no PEM trust store, and wants a password).
     */
    public static Path trustStore(Path dir, String name, Path certificate, String password)
            throws IOException, InterruptedException {
        Path store = dir.resolve(name + "-trust.p12");
        Files.deleteIfExists(store);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-importcert", "-noprompt", "-alias", name, "-file",
                certificate.toString(), "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", password)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + out);
        }
        return store;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
