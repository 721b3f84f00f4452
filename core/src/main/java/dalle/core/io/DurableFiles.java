package dalle.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The file operations that checkpoints and bundles are made safe with: content hashes, fsync,
 * atomic renames and recursive deletes. One copy, shared by the single-process checkpoints
 * ({@code CheckpointStore}), the sharded ones ({@code ShardCheckpoint}) and {@code ModelBundle}.
 */
public final class DurableFiles {

    private DurableFiles() {}

    /** A fresh SHA-256 digest. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Feeds the bytes of {@code f} into {@code md}. */
    public static void update(MessageDigest md, Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
    }

    /** Lower-case hex SHA-256 of a file's bytes. */
    public static String sha256(Path f) throws IOException {
        MessageDigest md = newSha256();
        update(md, f);
        return HexFormat.of().formatHex(md.digest());
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    /** Forces a file's content to the storage device. */
    public static void fsync(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Renames atomically where the file system can, else plainly. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Deletes a file or a directory tree; nothing there is fine. */
    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
