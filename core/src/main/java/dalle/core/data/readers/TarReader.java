package dalle.core.data.readers;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A minimal streaming tar reader: enough of POSIX ustar, GNU and pax to read WebDataset shards.
 *
 * <p>Each entry is a 512-byte header (name at 0, octal size at 124, checksum at 148, type at 156, ustar prefix at
 * 345 when the magic at 257 is {@code "ustar\0"}) followed by its data padded to a multiple of 512 bytes; an all-zero
 * block (or the clean end of the stream at a block boundary) ends the archive. Sizes may be octal or GNU base-256.
 * GNU long names (type {@code L}) and pax extended headers (type {@code x}: {@code path} and {@code size}) apply to
 * the next entry; global pax headers ({@code g}), GNU long link names ({@code K}) and every entry that is not a
 * regular file (directories, links, devices, GNU sparse files) are skipped.
 *
 * <p>Errors: a stream that ends inside a header or inside an entry's data throws {@link EOFException}; a header whose
 * checksum does not match throws {@link IOException}. Both name the byte offset.
 */
final class TarReader implements AutoCloseable {

    private static final int BLOCK = 512;

    /** A regular file in the archive; its data is read with {@link #read()} before the next {@link #next()}. */
    record Entry(String name, long size) {}

    private final InputStream in;
    private final byte[] header = new byte[BLOCK];
    private final byte[] scratch = new byte[64 * BLOCK];
    private long offset;
    private long remaining;
    private long padding;
    private String currentName = "";
    private boolean ended;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** Bytes consumed so far. */
    long offset() {
        return offset;
    }

    /** The next regular file, skipping whatever is left of the current one; empty at the end of the archive. */
    Optional<Entry> next() throws IOException {
        String longName = null; // from a GNU 'L' entry or a pax 'path', for the next file
        long paxSize = -1; // from a pax 'size', for the next file
        while (true) {
            skip(remaining + padding, "data of '" + currentName + "'");
            remaining = 0;
            padding = 0;
            if (ended || !readHeader()) {
                ended = true;
                return Optional.empty();
            }
            char type = (char) (header[156] & 0xff);
            boolean meta = type == 'L' || type == 'x' || type == 'K' || type == 'g';
            long size = !meta && paxSize >= 0 ? paxSize : parseSize();
            currentName = !meta && longName != null ? longName : headerName();
            remaining = size;
            padding = (BLOCK - size % BLOCK) % BLOCK;
            switch (type) {
                case 'L' -> longName = cString(readData(size, "GNU long name"));
                case 'x' -> {
                    byte[] pax = readData(size, "pax header");
                    String path = paxValue(pax, "path");
                    String paxSizeText = paxValue(pax, "size");
                    if (path != null) {
                        longName = path;
                    }
                    if (paxSizeText != null) {
                        try {
                            paxSize = Long.parseLong(paxSizeText.trim());
                        } catch (NumberFormatException e) {
                            throw new IOException("bad pax size '" + paxSizeText + "' before offset " + offset);
                        }
                    }
                }
                case 'K', 'g' -> {
                    // GNU long link name, global pax header: skipped; a pending long name still applies.
                }
                default -> {
                    if ((type == '0' || type == '\0' || type == '7') && !currentName.endsWith("/")) {
                        return Optional.of(new Entry(currentName, size));
                    }
                    // Directory, link, device, FIFO, GNU sparse file...: not a sample member.
                    longName = null;
                    paxSize = -1;
                }
            }
        }
    }

    /** All the data of the current entry (its size must fit in an array). */
    byte[] read() throws IOException {
        if (remaining > Integer.MAX_VALUE - 8) {
            throw new IOException("entry '" + currentName + "' is too large to read into memory: " + remaining);
        }
        return readData(remaining, "data of '" + currentName + "'");
    }

    private byte[] readData(long size, String what) throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(what + " claims " + size + " bytes at offset " + offset);
        }
        byte[] data = new byte[(int) size];
        readFully(data, data.length, what);
        remaining -= size;
        return data;
    }

    /** Reads the next header; false at the end of the archive (a zero block, or a clean end of stream). */
    private boolean readHeader() throws IOException {
        int n = in.readNBytes(header, 0, BLOCK);
        offset += n;
        if (n == 0) {
            return false;
        }
        if (n < BLOCK) {
            throw new EOFException(
                    "stream ends inside a header at offset " + offset + " (after '" + currentName + "')");
        }
        boolean zero = true;
        for (byte b : header) {
            if (b != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return false;
        }
        long stored = parseOctal(148, 8, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new IOException("bad tar header checksum at offset " + (offset - BLOCK) + " (after '"
                    + currentName + "'): not a tar file, or corrupt");
        }
        return true;
    }

    private String headerName() {
        String name = cString(header, 0, 100);
        boolean posix = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a'
                && header[261] == 'r' && header[262] == 0;
        String prefix = posix ? cString(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private long parseSize() throws IOException {
        if ((header[124] & 0x80) != 0) {
            // GNU base-256: big-endian two's complement in the 12 bytes, marker bit cleared.
            if ((header[124] & 0x40) != 0) {
                throw new IOException("negative entry size at offset " + (offset - BLOCK));
            }
            long v = header[124] & 0x3f;
            for (int i = 125; i < 136; i++) {
                if ((v >>> 55) != 0) {
                    throw new IOException("entry size overflows at offset " + (offset - BLOCK));
                }
                v = (v << 8) | (header[i] & 0xff);
            }
            return v;
        }
        return parseOctal(124, 12, "size");
    }

    private long parseOctal(int at, int len, String field) throws IOException {
        long v = 0;
        int i = at;
        int end = at + len;
        while (i < end && header[i] == ' ') {
            i++;
        }
        for (; i < end; i++) {
            int b = header[i];
            if (b == 0 || b == ' ') {
                break;
            }
            if (b < '0' || b > '7') {
                throw new IOException("bad tar header " + field + " at offset " + (offset - BLOCK)
                        + " (after '" + currentName + "'): not a tar file, or corrupt");
            }
            v = (v << 3) | (b - '0');
        }
        return v;
    }

    private static String cString(byte[] b) {
        return cString(b, 0, b.length);
    }

    private static String cString(byte[] b, int at, int len) {
        int end = at;
        while (end < at + len && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.UTF_8);
    }

    /** Value of {@code key} in pax records {@code "<len> <key>=<value>\n"}, or null. */
    private static String paxValue(byte[] pax, String key) throws IOException {
        int i = 0;
        String found = null;
        while (i < pax.length) {
            int space = i;
            while (space < pax.length && pax[space] != ' ') {
                space++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(pax, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException("malformed pax record length");
            }
            if (len <= space - i || i + len > pax.length) {
                throw new IOException("malformed pax record");
            }
            String record = new String(pax, space + 1, i + len - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq > 0 && record.substring(0, eq).equals(key)) {
                found = record.substring(eq + 1);
            }
            i += len;
        }
        return found;
    }

    private void readFully(byte[] data, int len, String what) throws IOException {
        int n = in.readNBytes(data, 0, len);
        offset += n;
        if (n < len) {
            throw new EOFException("stream ends " + n + " bytes into the " + len + " of " + what + " at offset "
                    + offset);
        }
    }

    /** Skips by reading (not {@code InputStream.skip}, which may pass the end of a file without saying so). */
    private void skip(long n, String what) throws IOException {
        long left = n;
        while (left > 0) {
            int chunk = (int) Math.min(left, scratch.length);
            int got = in.readNBytes(scratch, 0, chunk);
            offset += got;
            left -= got;
            if (got < chunk) {
                throw new EOFException("stream ends " + left + " bytes short of the end of the " + what
                        + " at offset " + offset);
            }
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
