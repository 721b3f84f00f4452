package dalle.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParseException;
import dalle.core.data.Example;
import dalle.core.dvae.Dvae;
import dalle.core.image.RgbImage;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The prior's training set: captions and the dVAE's codes of their images, computed once (the dVAE
 * is frozen while the prior trains) and kept in {@code codes.bin} so that reruns and resumed runs
 * reuse them.
 *
 * <p>File layout (big-endian): the magic {@code DALLECODES}, an int header length, the header as UTF-8
 * JSON ({@link Header}), then per example its {@code tokens} codes (unsigned 16-bit) and its caption
 * (int byte length + UTF-8), then the CRC-32 of everything before it (long).
 */
public final class CodeCache {

    /** The file name in a prior's run directory. */
    public static final String FILE = "codes.bin";

    private static final byte[] MAGIC = "DALLECODES".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT = 1;
    private static final int MAX_CODEBOOK = 1 << 16;

    /**
     * @param dvae the SHA-256 of the dVAE's weights file that made the codes
     * @param data the data source ({@link ExampleBatches#describe()})
     * @param requested examples asked for
     * @param count examples encoded (fewer than requested when the data ran out)
     * @param tokens codes per example (the dVAE's G²)
     * @param codebookSize the dVAE's K
     */
    public record Header(int format, String dvae, String data, int requested, int count, int tokens, int codebookSize) {}

    private final Header header;
    private final int[] codes;
    private final String[] captions;

    private CodeCache(Header header, int[] codes, String[] captions) {
        this.header = header;
        this.codes = codes;
        this.captions = captions;
    }

    /**
     * Encodes up to {@code count} examples (fewer if {@code examples} ends first) with {@code dvae}.
     *
     * @param dvaeSha256 identifies the dVAE, see {@link Header#dvae()}
     * @param progress told the number of examples encoded so far, after each batch
     */
    public static CodeCache build(Dvae dvae, String dvaeSha256, Iterator<Example> examples, int count, String data,
                                  NDManager manager, LongConsumer progress) {
        if (count <= 0) {
            throw new IllegalArgumentException("the code cache needs a positive number of examples, got " + count);
        }
        int k = dvae.config().codebookSize();
        if (k > MAX_CODEBOOK) {
            throw new IllegalArgumentException("codebook of " + k + " codes does not fit the cache's 16-bit codes");
        }
        int tokens = dvae.config().tokens();
        List<String> caps = new ArrayList<>();
        List<int[]> chunks = new ArrayList<>();
        int encodeBatch = 64;
        while (caps.size() < count && examples.hasNext()) {
            List<RgbImage> images = new ArrayList<>(encodeBatch);
            while (images.size() < encodeBatch && caps.size() < count && examples.hasNext()) {
                Example e = examples.next();
                images.add(e.image());
                caps.add(e.caption());
            }
            try (NDManager scope = manager.newSubManager()) {
                NDArray batch = RgbImage.stack(scope, images);                 // (b, 3, S, S)
                long[] c = dvae.encode(batch).toLongArray();                   // (b, G²)
                int[] ints = new int[c.length];
                for (int i = 0; i < c.length; i++) {
                    ints[i] = (int) c[i];
                }
                chunks.add(ints);
            }
            progress.accept(caps.size());
        }
        if (caps.isEmpty()) {
            throw new IllegalArgumentException("no examples to encode from " + data);
        }
        int[] all = new int[caps.size() * tokens];
        int at = 0;
        for (int[] chunk : chunks) {
            System.arraycopy(chunk, 0, all, at, chunk.length);
            at += chunk.length;
        }
        return new CodeCache(new Header(FORMAT, dvaeSha256, data, count, caps.size(), tokens, k), all,
                caps.toArray(new String[0]));
    }

    /**
     * The cache in {@code file} if it was made by this dVAE from this data and size; otherwise, unless
     * {@code mustReuse}, a new one encoded with the dVAE of {@code dvaeDir} and saved to {@code file}.
     *
     * @param examples a fresh pass over the data (closed afterwards if it is {@link AutoCloseable})
     * @param mustReuse true for a resumed run: a missing or different cache is refused, not rebuilt
     * @throws CheckpointException naming the file when a cache must be reused and cannot be, or the dVAE
     *     directory cannot be loaded
     */
    public static CodeCache prepare(Path file, Path dvaeDir, String data, Supplier<? extends Iterator<Example>> examples,
                                    int count, boolean mustReuse, NDManager manager, LongConsumer progress,
                                    Consumer<String> note) throws IOException {
        Path weights = dvaeDir.resolve(Checkpoints.WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new CheckpointException(weights, "missing dVAE weights (expected a dVAE model directory)");
        }
        String dvaeSha = DurableFiles.sha256(weights);
        if (Files.isRegularFile(file)) {
            CodeCache cached;
            try {
                cached = load(file);
            } catch (CheckpointException e) {
                if (mustReuse) {
                    throw e;
                }
                note.accept("rebuilding the code cache: " + e.getMessage());
                cached = null;
            }
            if (cached != null) {
                Header h = cached.header();
                if (h.dvae().equals(dvaeSha) && h.data().equals(data) && h.requested() == count) {
                    return cached;
                }
                if (mustReuse) {
                    throw new CheckpointException(file, "the run's code cache was made from " + h.data() + " ("
                            + h.requested() + " examples, dVAE " + h.dvae() + "), not from " + data + " (" + count
                            + " examples, dVAE " + dvaeSha + ")");
                }
                note.accept("rebuilding the code cache: it was made from other data or by another dVAE");
            }
        } else if (mustReuse) {
            throw new CheckpointException(file, "missing code cache of the run being resumed");
        }
        CodeCache built;
        try (NDManager scope = manager.newSubManager()) {
            Dvae dvae = Dvae.load(dvaeDir, scope);
            Iterator<Example> it = examples.get();
            try {
                built = build(dvae, dvaeSha, it, count, data, scope, progress);
            } finally {
                if (it instanceof AutoCloseable c) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        note.accept("closing the data after encoding failed: " + e.getMessage());
                    }
                }
            }
        }
        built.save(file);
        return built;
    }

    /** Writes the cache to {@code file} (through a temporary file and a rename). */
    public void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        CRC32 crc = new CRC32();
        try (DataOutputStream out = new DataOutputStream(new CheckedOutputStream(
                new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16), crc))) {
            out.write(MAGIC);
            byte[] json = Checkpoints.GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
            out.writeInt(json.length);
            out.write(json);
            for (int i = 0; i < header.count(); i++) {
                for (int t = 0; t < header.tokens(); t++) {
                    out.writeChar(codes[i * header.tokens() + t]);
                }
                byte[] caption = captions[i].getBytes(StandardCharsets.UTF_8);
                out.writeInt(caption.length);
                out.write(caption);
            }
            out.flush();
            out.writeLong(crc.getValue());
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads a cache written by {@link #save}.
     *
     * @throws CheckpointException naming the file when it is missing, truncated, corrupt (CRC) or malformed
     */
    public static CodeCache load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing code cache");
        }
        CRC32 crc = new CRC32();
        try (DataInputStream in = new DataInputStream(new CheckedInputStream(
                new BufferedInputStream(Files.newInputStream(file), 1 << 16), crc))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new CheckpointException(file, "not a code cache (bad magic)");
            }
            int length = in.readInt();
            if (length <= 0 || length > 1 << 20) {
                throw new CheckpointException(file, "corrupt code cache: header length " + length);
            }
            Header h = Checkpoints.GSON.fromJson(new String(in.readNBytes(length), StandardCharsets.UTF_8),
                    Header.class);
            if (h == null || h.format() != FORMAT || h.count() <= 0 || h.tokens() <= 0) {
                throw new CheckpointException(file, "unsupported or malformed code cache header " + h);
            }
            int[] codes = new int[Math.multiplyExact(h.count(), h.tokens())];
            String[] captions = new String[h.count()];
            for (int i = 0; i < h.count(); i++) {
                for (int t = 0; t < h.tokens(); t++) {
                    int c = in.readChar();
                    if (c >= h.codebookSize()) {
                        throw new CheckpointException(file, "corrupt code cache: code " + c + " of example " + i
                                + " is outside the codebook of " + h.codebookSize());
                    }
                    codes[i * h.tokens() + t] = c;
                }
                int n = in.readInt();
                if (n < 0 || n > 1 << 20) {
                    throw new CheckpointException(file, "corrupt code cache: caption " + i + " has length " + n);
                }
                captions[i] = new String(in.readNBytes(n), StandardCharsets.UTF_8);
            }
            long expected = crc.getValue();
            long stored = in.readLong();
            if (stored != expected) {
                throw new CheckpointException(file, "corrupt code cache: CRC-32 mismatch");
            }
            if (in.read() != -1) {
                throw new CheckpointException(file, "corrupt code cache: trailing bytes");
            }
            return new CodeCache(h, codes, captions);
        } catch (EOFException e) {
            throw new CheckpointException(file, "truncated code cache", e);
        } catch (IOException | JsonParseException e) {
            throw new CheckpointException(file, "unreadable code cache: " + e.getMessage(), e);
        }
    }

    public Header header() {
        return header;
    }

    /** Number of examples. */
    public int size() {
        return header.count();
    }

    /** Codes per example (G²). */
    public int tokens() {
        return header.tokens();
    }

    /** Example {@code i}'s codes copied into {@code out} at {@code offset}. */
    public void copyCodes(int i, int[] out, int offset) {
        System.arraycopy(codes, i * header.tokens(), out, offset, header.tokens());
    }

    public String caption(int i) {
        return captions[i];
    }

    /** Every caption, in order. */
    public List<String> captions() {
        return List.of(captions);
    }
}
