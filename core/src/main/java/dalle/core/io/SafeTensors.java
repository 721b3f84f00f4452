package dalle.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format (8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data).
 *
 * <p>Our own reader rather than {@code NDList.decode}: it checks every offset against the
 * file before touching data, so a truncated or tampered file is refused with the path and
 * the reason, and it converts F16 and BF16 to F32 in Java — creating a BF16 array aborts the
 * JVM on these CPUs (shared/TOOLCHAIN.md). Files written here load in PyTorch's safetensors.
 */
public final class SafeTensors {

    /** Storage precision of written floating-point tensors. */
    public enum Storage { F32, F16 }

    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private SafeTensors() {}

    /**
     * Writes {@code tensors} (in name order) to {@code path}; float tensors are stored as
     * {@code storage}, integer tensors as I64/I32 unchanged.
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata, Storage storage)
            throws IOException {
        Map<String, NDArray> sorted = new TreeMap<>(tensors);
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        List<byte[]> blobs = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
            NDArray a = e.getValue();
            String dtype;
            byte[] data;
            switch (a.getDataType()) {
                case FLOAT32, FLOAT16, FLOAT64 -> {
                    float[] f = a.toType(DataType.FLOAT32, false).toFloatArray();
                    if (storage == Storage.F16) {
                        dtype = "F16";
                        ByteBuffer b = ByteBuffer.allocate(f.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                        for (float v : f) {
                            b.putShort(Half.fromFloat(v));
                        }
                        data = b.array();
                    } else {
                        dtype = "F32";
                        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        b.asFloatBuffer().put(f);
                        data = b.array();
                    }
                }
                case INT64 -> {
                    dtype = "I64";
                    long[] l = a.toLongArray();
                    ByteBuffer b = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                    b.asLongBuffer().put(l);
                    data = b.array();
                }
                case INT32 -> {
                    dtype = "I32";
                    int[] i = a.toIntArray();
                    ByteBuffer b = ByteBuffer.allocate(i.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.asIntBuffer().put(i);
                    data = b.array();
                }
                default -> throw new IOException("tensor " + e.getKey() + ": cannot store data type " + a.getDataType());
            }
            JsonObject t = new JsonObject();
            t.addProperty("dtype", dtype);
            com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            com.google.gson.JsonArray range = new com.google.gson.JsonArray();
            range.add(offset);
            range.add(offset + data.length);
            t.add("data_offsets", range);
            header.add(e.getKey(), t);
            blobs.add(data);
            offset += data.length;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        Files.createDirectories(path.toAbsolutePath().getParent());
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(head.flip());
            for (byte[] b : blobs) {
                ch.write(ByteBuffer.wrap(b));
            }
        }
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The result of {@link #read}: tensors by name (FLOAT32 for any float storage) and the metadata. */
    public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {}

    /**
     * Reads every tensor of {@code path} onto {@code manager}.
     *
     * @throws CheckpointException naming the path and the reason when the file is truncated,
     *     its header is malformed, a shape's element or byte count overflows a long, or a
     *     tensor's byte range does not fit its dtype and shape; all checked before any tensor
     *     is allocated
     */
    public static Contents read(Path path, NDManager manager) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot read safetensors file: " + e.getMessage(), e);
        }
        if (bytes.length < 8) {
            throw new CheckpointException(path, "truncated safetensors file: " + bytes.length + " bytes, no header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
            throw new CheckpointException(path, "truncated or corrupt safetensors file: header length " + headerLen
                    + " does not fit in " + bytes.length + " bytes");
        }
        JsonObject header;
        try {
            JsonElement el = JsonParser.parseString(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
            header = el.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException(path, "corrupt safetensors header: " + e.getMessage(), e);
        }
        long dataStart = 8 + headerLen;
        long dataLen = bytes.length - dataStart;
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                try {
                    e.getValue().getAsJsonObject().entrySet()
                            .forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
                } catch (IllegalStateException | UnsupportedOperationException ex) {
                    throw new CheckpointException(path, "__metadata__ is not an object of strings: " + e.getValue(), ex);
                }
                continue;
            }
            JsonObject t;
            String dtype;
            long[] shape;
            long begin;
            long end;
            try {
                t = e.getValue().getAsJsonObject();
                dtype = t.get("dtype").getAsString();
                var s = t.getAsJsonArray("shape");
                shape = new long[s.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = s.get(i).getAsLong();
                }
                var r = t.getAsJsonArray("data_offsets");
                begin = r.get(0).getAsLong();
                end = r.get(1).getAsLong();
            } catch (RuntimeException ex) {
                throw new CheckpointException(path, "tensor " + name + ": malformed header entry " + e.getValue(), ex);
            }
            int width = switch (dtype) {
                case "F32", "I32" -> 4;
                case "F16", "BF16" -> 2;
                case "I64", "F64" -> 8;
                default -> throw new CheckpointException(path, "tensor " + name + ": unsupported dtype " + dtype);
            };
            long count = elementCount(path, name, shape);
            long byteCount;
            try {
                byteCount = Math.multiplyExact(count, width);
            } catch (ArithmeticException overflow) {
                throw new CheckpointException(path, "tensor " + name + ": shape " + shapeText(shape) + " of " + dtype
                        + " needs more bytes than a long holds: corrupt or hostile header");
            }
            if (begin < 0 || end < begin || end > dataLen) {
                throw new CheckpointException(path, "truncated safetensors file: tensor " + name + " spans bytes ["
                        + begin + ", " + end + ") but only " + dataLen + " data bytes are present");
            }
            if (end - begin != byteCount) {
                throw new CheckpointException(path, "tensor " + name + ": " + (end - begin) + " bytes do not hold shape "
                        + shapeText(shape) + " of " + dtype + " (" + byteCount + " bytes)");
            }
            // Here byteCount == end - begin <= the file's length, so count fits an int and the arrays below.
            ByteBuffer slice = ByteBuffer.wrap(bytes, (int) (dataStart + begin), (int) (end - begin))
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            NDArray array = switch (dtype) {
                case "F32" -> {
                    float[] f = new float[(int) count];
                    slice.asFloatBuffer().get(f);
                    yield manager.create(f, new Shape(shape));
                }
                case "F16", "BF16" -> {
                    float[] f = new float[(int) count];
                    for (int i = 0; i < f.length; i++) {
                        short h = slice.getShort(i * 2);
                        f[i] = dtype.equals("F16") ? Half.toFloat(h) : Float.intBitsToFloat((h & 0xffff) << 16);
                    }
                    yield manager.create(f, new Shape(shape));
                }
                case "F64" -> {
                    double[] d = new double[(int) count];
                    slice.asDoubleBuffer().get(d);
                    yield manager.create(d, new Shape(shape)).toType(DataType.FLOAT32, false);
                }
                case "I64" -> {
                    long[] l = new long[(int) count];
                    slice.asLongBuffer().get(l);
                    yield manager.create(l, new Shape(shape));
                }
                default -> {
                    int[] i = new int[(int) count];
                    slice.asIntBuffer().get(i);
                    yield manager.create(i, new Shape(shape));
                }
            };
            array.setName(name);
            tensors.put(name, array);
        }
        return new Contents(tensors, metadata);
    }

    /**
     * The product of {@code shape}, checked: a header is untrusted input, and a product that wraps around (2^32 ·
     * 2^32 is 0 in a long) would otherwise pass the byte-range check and reach the allocator with a shape it does not
     * describe.
     */
    private static long elementCount(Path path, String name, long[] shape) {
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new CheckpointException(path, "tensor " + name + ": negative dimension in shape " + shapeText(shape));
            }
            empty |= d == 0;
        }
        if (empty) {
            return 0; // an empty tensor, whatever the other dimensions are
        }
        long count = 1;
        for (long d : shape) {
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException overflow) {
                throw new CheckpointException(path, "tensor " + name + ": shape " + shapeText(shape)
                        + " has more elements than a long holds: corrupt or hostile header");
            }
        }
        return count;
    }

    /** {@code (a, b, c)} without building a {@link Shape}, whose own size arithmetic may overflow. */
    private static String shapeText(long[] shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return b.append(')').toString();
    }
}
