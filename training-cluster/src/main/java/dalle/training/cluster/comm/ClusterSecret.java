package dalle.training.cluster.comm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every rank of a training job shares, proven in each ring connection's handshake
 * ({@link RingHandshake}: HMAC-SHA256 over nonces from both ends; the secret itself never goes on the
 * wire). The key is the UTF-8 bytes of the secret's text with surrounding whitespace removed (so a
 * file with a trailing newline and the same text in an environment variable are the same secret).
 *
 * <p>Where ranks find it ({@link #fromEnvironment}): the file named by {@value #FILE_ENV} (a mounted
 * Kubernetes Secret), else the value of {@value #ENV} (how {@code dalle train prior --workers W} hands
 * its random secret to the worker processes it starts: never on a command line, which other users of
 * the machine can read). At least {@value #MIN_BYTES} bytes: the handshake's MACs could otherwise be
 * brute-forced offline. Make one with {@code head -c 32 /dev/urandom | base64}.
 */
public final class ClusterSecret {

    /** Environment variable holding the secret's text. */
    public static final String ENV = "DALLE_CLUSTER_SECRET";
    /** Environment variable naming a file that holds the secret (preferred over {@link #ENV}). */
    public static final String FILE_ENV = "DALLE_CLUSTER_SECRET_FILE";
    /** The shortest secret accepted, in bytes. */
    public static final int MIN_BYTES = 16;

    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String text;
    private final SecretKeySpec key;

    private ClusterSecret(String text, String origin) {
        String t = text.strip();
        byte[] bytes = t.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < MIN_BYTES) {
            throw new IllegalArgumentException("the cluster secret from " + origin + " has " + bytes.length
                    + " bytes; at least " + MIN_BYTES + " are needed (e.g. head -c 32 /dev/urandom | base64)");
        }
        this.text = t;
        this.key = new SecretKeySpec(bytes, HMAC);
    }

    /** A fresh secret of 32 random bytes (as base64 text), for the workers of one local job. */
    public static ClusterSecret random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return new ClusterSecret(Base64.getEncoder().encodeToString(b), "a random draw");
    }

    /** The secret with this text. */
    public static ClusterSecret of(String text) {
        return new ClusterSecret(text, "the given text");
    }

    /** The secret held in {@code file}. */
    public static ClusterSecret fromFile(Path file) {
        try {
            return new ClusterSecret(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the cluster secret file " + file + ": " + e, e);
        }
    }

    /**
     * The secret named by {@code env}: the file of {@value #FILE_ENV}, else the text of {@value #ENV}.
     *
     * @throws IllegalArgumentException when neither is set, or the secret is unreadable or too short
     */
    public static ClusterSecret fromEnvironment(Map<String, String> env) {
        String file = env.get(FILE_ENV);
        if (file != null && !file.isBlank()) {
            return fromFile(Path.of(file));
        }
        String text = env.get(ENV);
        if (text != null && !text.isBlank()) {
            return new ClusterSecret(text, "$" + ENV);
        }
        throw new IllegalArgumentException("no cluster secret: set " + FILE_ENV + " to a file holding it or " + ENV
                + " to its text (every rank of the job needs the same one; see deploy/README.md, Training)");
    }

    /** The secret's text, to hand to worker processes through their environment ({@link #ENV}). */
    public String text() {
        return text;
    }

    /** HMAC-SHA256 of the concatenated {@code parts} under this secret. */
    byte[] mac(byte[]... parts) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", e);
        }
    }

    /** Constant-time comparison of two MACs. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    /** Random bytes for a handshake nonce. */
    static byte[] nonce() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Never the secret. */
    @Override
    public String toString() {
        return "ClusterSecret[redacted]";
    }
}
