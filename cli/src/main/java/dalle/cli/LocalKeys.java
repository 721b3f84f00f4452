package dalle.cli;

import dalle.services.common.auth.ApiKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The local stack's API key: {@code dalle up} creates one key of tenant {@value #TENANT} the first time it runs in
 * a data folder, keeps the key in {@code <data>/api-key} (owner-only) for clients and its hash in
 * {@code <data>/api-keys}, the gateway's keys file. Later runs keep both, so scripts can read the key once.
 */
public final class LocalKeys {

    /** The tenant of the local key. */
    public static final String TENANT = "local";
    /** The key itself, for clients. */
    public static final String KEY_FILE = "api-key";
    /** The gateway's keys file (hashes). */
    public static final String KEYS_FILE = "api-keys";

    private LocalKeys() {
    }

    /** The gateway's keys file of a data folder. */
    public static Path keysFile(Path dataDir) {
        return dataDir.resolve(KEYS_FILE);
    }

    /**
     * The data folder's key, created with its keys file when missing.
     *
     * @throws IOException when the files cannot be written
     */
    public static String ensure(Path dataDir) throws IOException {
        Path keyFile = dataDir.resolve(KEY_FILE);
        Path keys = keysFile(dataDir);
        if (Files.isRegularFile(keyFile) && Files.isRegularFile(keys)) {
            return read(dataDir);
        }
        Files.createDirectories(dataDir);
        String key = ApiKeys.newKey();
        Path tmp = dataDir.resolve(KEY_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, key + "\n", StandardCharsets.UTF_8);
        Files.writeString(keys, "# dalle up's local key (tenant " + TENANT + "); the key itself is in " + KEY_FILE
                + "\n" + ApiKeys.line(key, TENANT, "dalle up") + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return key;
    }

    /**
     * The data folder's key.
     *
     * @throws IOException when there is none (the message says where it was looked for)
     */
    public static String read(Path dataDir) throws IOException {
        Path keyFile = dataDir.resolve(KEY_FILE);
        if (!Files.isRegularFile(keyFile)) {
            throw new IOException("no API key at " + keyFile + ": dalle up creates it");
        }
        return Files.readString(keyFile, StandardCharsets.UTF_8).strip();
    }
}
