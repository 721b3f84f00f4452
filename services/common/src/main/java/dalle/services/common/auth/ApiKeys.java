package dalle.services.common.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The gateway's API keys, kept hashed: a keys file holds one key per line as {@code <sha256-hex> <tenant> [label]}
 * ({@code #} starts a comment), so the file (a Kubernetes Secret, or {@code dalle up}'s local file) never holds a
 * usable key. A client sends the key itself as {@code Authorization: Bearer <key>} (OpenAI's convention); the
 * gateway hashes it and looks the hash up. Keys are {@value #PREFIX} and 43 base64url characters (256 random bits).
 */
public final class ApiKeys {

    /** What every generated key starts with, so that a leaked key is recognisable (secret scanners). */
    public static final String PREFIX = "dalle-";

    /** A tenant: lower-case letters, digits and '-', 1..32 characters, starting with a letter or digit. */
    public static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One key's owner. */
    public record Owner(String tenant, String label) {
    }

    private final Map<String, Owner> byHash;

    private ApiKeys(Map<String, Owner> byHash) {
        this.byHash = Map.copyOf(byHash);
    }

    /**
     * Reads a keys file.
     *
     * @throws IllegalArgumentException naming the file, the line and what is wrong with it
     * @throws IOException when the file cannot be read
     */
    public static ApiKeys read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Map<String, Owner> keys = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+", 3);
            String where = file + " line " + (i + 1) + ": ";
            if (f.length < 2) {
                throw new IllegalArgumentException(where + "expected '<sha256-hex> <tenant> [label]'");
            }
            if (!HASH.matcher(f[0]).matches()) {
                throw new IllegalArgumentException(where + "the first field is not a lower-case SHA-256 hex digest "
                        + "(64 characters); the file holds hashes of keys, never keys (dalle keys create prints the line)");
            }
            if (!TENANT.matcher(f[1]).matches()) {
                throw new IllegalArgumentException(where + "tenant '" + f[1] + "' is not 1..32 of [a-z0-9-] starting "
                        + "with a letter or digit");
            }
            if (keys.putIfAbsent(f[0], new Owner(f[1], f.length > 2 ? f[2] : "")) != null) {
                throw new IllegalArgumentException(where + "the same key hash appears twice");
            }
        }
        return new ApiKeys(keys);
    }

    /** The owner of a presented key; empty when the key is unknown. */
    public Optional<Owner> owner(String key) {
        if (key == null || key.isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(byHash.get(hash(key)));
    }

    /** How many keys the file holds. */
    public int size() {
        return byHash.size();
    }

    /** A fresh random key. */
    public static String newKey() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The keys-file line of a key. */
    public static String line(String key, String tenant, String label) {
        if (!TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant '" + tenant + "' is not 1..32 of [a-z0-9-] starting with a "
                    + "letter or digit");
        }
        return hash(key) + " " + tenant + (label == null || label.isBlank() ? "" : " " + label.strip());
    }

    /** The lower-case hex SHA-256 of a key's UTF-8 bytes. */
    public static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
