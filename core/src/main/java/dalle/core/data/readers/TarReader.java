package dalle.core.data.readers;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * The regular files of a tar stream, parsed by Apache Commons Compress ({@link TarArchiveInputStream}): POSIX ustar,
 * GNU (long names and long link names, base-256 sizes) and pax (extended and global headers) as that library reads
 * them. Entries that are not regular files (directories, links, devices, FIFOs, old GNU sparse files) are skipped:
 * they are not sample members.
 *
 * <p>What this class adds is errors that say what went wrong and where, because a damaged shard must cost its reader
 * that shard, counted with a reason, and nothing more:
 * <ul>
 *   <li>a stream that ends inside a header or inside an entry's data throws {@link EOFException} ("the shard ends
 *       early"), naming the byte offset and the entry (the library returns a header cut short as a clean end of the
 *       archive, and a cut in the data as a bare "Truncated TAR archive");
 *   <li>a header whose checksum does not match throws an {@link IOException} saying so (the library only flags it on
 *       the entry, or fails on the first field it cannot parse);
 *   <li>anything else the library refuses (a malformed pax record, a number that does not parse) is an
 *       {@link IOException} with the library's reason and the byte offset. Unchecked exceptions from the library are
 *       turned into IOExceptions too: bad input must never abort a pass.
 * </ul>
 * The library reads a GNU long name or a pax header into memory whole, as large as the archive makes it.
 */
final class TarReader implements AutoCloseable {

    /** A regular file in the archive; its data is read with {@link #read()} before the next {@link #next()}. */
    record Entry(String name, long size) {}

    /** The largest array a JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Source source;
    private final Archive tar;
    private TarArchiveEntry current;
    private String previous = "";

    TarReader(InputStream in) {
        this.source = new Source(in);
        this.tar = new Archive(source);
    }

    /** Bytes of the (uncompressed) tar stream consumed so far. */
    long offset() {
        return source.count;
    }

    /** The next regular file, skipping whatever is left of the current one; empty at the end of the archive. */
    Optional<Entry> next() throws IOException {
        while (true) {
            TarArchiveEntry e = nextEntry();
            if (e == null) {
                current = null;
                return Optional.empty();
            }
            previous = e.getName();
            if (isRegularFile(e)) {
                if (e.getRealSize() < 0) {
                    throw new IOException("tar entry '" + e.getName() + "' has a negative size, "
                            + e.getRealSize() + ", before byte " + offset() + ": corrupt");
                }
                current = e;
                return Optional.of(new Entry(e.getName(), e.getRealSize()));
            }
        }
    }

    /** All the data of the current entry (its size must fit in an array). */
    byte[] read() throws IOException {
        if (current == null) {
            throw new IllegalStateException("no current entry: next() has not returned one");
        }
        long size = current.getRealSize();
        String where = "in the data of '" + current.getName() + "' (" + size + " bytes)";
        if (size > MAX_ARRAY) {
            throw new IOException("entry '" + current.getName() + "' is too large to read into memory: " + size);
        }
        byte[] data;
        try {
            data = tar.readNBytes((int) size);
        } catch (IOException | RuntimeException e) {
            throw failure(where, e);
        }
        if (data.length < size) {
            throw new EOFException("the shard ends early, at byte " + offset() + ", " + where + ": "
                    + data.length + " bytes read");
        }
        return data;
    }

    private TarArchiveEntry nextEntry() throws IOException {
        String where = previous.isEmpty() ? "in the first header" : "after '" + previous + "'";
        TarArchiveEntry e;
        try {
            e = tar.getNextEntry();
        } catch (IOException | RuntimeException failure) {
            if (!source.ended && tar.lastHeader != null && !checksumMatches(tar.lastHeader)) {
                throw new IOException(badChecksum(tar.lastHeaderOffset, where), failure);
            }
            throw failure(where, failure);
        }
        if (e != null && !e.isCheckSumOK()) {
            throw new IOException(badChecksum(tar.lastHeaderOffset, where));
        }
        return e;
    }

    /** Whether the header's checksum field holds the sum of its bytes; a field that is not a number does not. */
    private static boolean checksumMatches(byte[] header) {
        try {
            return TarUtils.verifyCheckSum(header);
        } catch (IllegalArgumentException unparsable) { // the library parses the field as octal and throws if it is not
            return false;
        }
    }

    private static String badChecksum(long at, String where) {
        return "bad tar header checksum at byte " + at + ", " + where + ": not a tar file, or corrupt";
    }

    /** {@code failure} of the library {@code where} it read, as an exception naming the place and the reason. */
    private IOException failure(String where, Exception failure) {
        String reason = failure instanceof IOException ? failure.getMessage() : failure.toString();
        if (source.ended) {
            return (IOException) new EOFException("the shard ends early, at byte " + offset() + ", " + where + ": "
                    + reason).initCause(failure);
        }
        return new IOException("malformed tar archive at byte " + offset() + ", " + where + ": " + reason, failure);
    }

    /** Regular files only; a name ending in '/' is a directory whatever its type says. */
    private static boolean isRegularFile(TarArchiveEntry e) {
        byte type = e.getLinkFlag();
        return (type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG)
                && !e.getName().endsWith("/");
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }

    /**
     * The library's stream, made to report a header cut short (it returns a partial 512-byte record as the end of the
     * archive) and to keep the last header it read, for the checksum verdict when that header does not parse.
     */
    private static final class Archive extends TarArchiveInputStream {
        private byte[] lastHeader;
        private long lastHeaderOffset;

        Archive(InputStream in) {
            super(in);
        }

        @Override
        protected byte[] readRecord() throws IOException {
            long before = getBytesRead();
            byte[] record = super.readRecord();
            long got = getBytesRead() - before;
            if (record == null && got > 0) {
                throw new EOFException(got + " bytes into a " + getRecordSize() + "-byte header");
            }
            if (record != null) {
                lastHeader = record.clone();
                lastHeaderOffset = before;
            }
            return record;
        }
    }

    /**
     * The stream under the library, counting its bytes and remembering whether it ended (to tell a cut archive from a
     * malformed one).
     */
    private static final class Source extends FilterInputStream {
        private final byte[] skipBuffer = new byte[8192];
        private boolean ended;
        private long count;

        Source(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                int b = in.read();
                ended |= b < 0;
                count += b < 0 ? 0 : 1;
                return b;
            } catch (EOFException e) { // a compressed stream cut short
                ended = true;
                throw e;
            }
        }

        /** By reading, so that the count and the end are seen, and never past the end (as some skips go). */
        @Override
        public long skip(long n) throws IOException {
            long left = n;
            while (left > 0) {
                int got = read(skipBuffer, 0, (int) Math.min(left, skipBuffer.length));
                if (got < 0) {
                    break;
                }
                left -= got;
            }
            return n - Math.max(left, 0);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = in.read(b, off, len);
                ended |= n < 0;
                count += Math.max(n, 0);
                return n;
            } catch (EOFException e) {
                ended = true;
                throw e;
            }
        }
    }
}
