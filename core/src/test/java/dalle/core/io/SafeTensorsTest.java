package dalle.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir Path dir;

    record TinyConfig(int in, int out) {
        TinyConfig {
            if (in <= 0) {
                throw new IllegalArgumentException("in must be positive, got " + in);
            }
        }
    }

    static final class Tiny extends Module {
        final Linear a;
        final Linear b;

        Tiny(NDManager m, TinyConfig c, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            a = child("a", new Linear(m, rng, c.in(), c.out(), true));
            b = child("b", new Linear(m, rng, c.out(), c.in(), false));
        }
    }

    @Test
    void saveThenLoadGivesIdenticalTensors() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("w", Module.normal(m, new SplittableRandom(3), 1f, new Shape(4, 5)));
            t.put("ids", m.create(new long[] {1, -2, 3}));
            t.put("scalar", m.create(new float[] {7f}, new Shape()));
            Path f = dir.resolve("x.safetensors");
            SafeTensors.write(f, t, Map.of("note", "hi"), SafeTensors.Storage.F32);
            SafeTensors.Contents back = SafeTensors.read(f, m);
            assertEquals("hi", back.metadata().get("note"));
            assertArrayEquals(t.get("w").toFloatArray(), back.tensors().get("w").toFloatArray(), 0f);
            assertEquals(new Shape(4, 5), back.tensors().get("w").getShape());
            assertArrayEquals(new long[] {1, -2, 3}, back.tensors().get("ids").toLongArray());
            assertEquals(DataType.INT64, back.tensors().get("ids").getDataType());
            assertEquals(new Shape(), back.tensors().get("scalar").getShape());
        }
    }

    @Test
    void headerFollowsTheSafetensorsLayout() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("x.safetensors");
            SafeTensors.write(f, Map.of("v", m.create(new float[] {1f, 2f})), Map.of(), SafeTensors.Storage.F32);
            byte[] bytes = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim();
            assertEquals("{\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header);
            assertEquals(0, n % 8, "header padded to 8 bytes");
            assertEquals(8 + n + 8, bytes.length);
            assertEquals(2f, ByteBuffer.wrap(bytes, (int) (8 + n + 4), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
        }
    }

    @Test
    void halfPrecisionStorageRoundsToNearestHalf() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = {0f, 1f, -2.5f, 65504f, 1e-7f, 0.1f, 3.14159f};
            Path f = dir.resolve("h.safetensors");
            SafeTensors.write(f, Map.of("v", m.create(v)), Map.of(), SafeTensors.Storage.F16);
            float[] back = SafeTensors.read(f, m).tensors().get("v").toFloatArray();
            for (int i = 0; i < v.length; i++) {
                // binary16 has an 11-bit significand: relative error at most 2^-11 in the normal range
                assertEquals(v[i], back[i], Math.max(Math.abs(v[i]) * 0x1p-11f, 6e-8f), "value " + v[i]);
            }
            assertEquals(1.0009765625f, Half.toFloat(Half.fromFloat(1.0009765625f)));
            assertEquals(Float.POSITIVE_INFINITY, Half.toFloat(Half.fromFloat(1e6f)));
        }
    }

    @Test
    void truncatedFileIsRefusedWithPathAndReason() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("t.safetensors");
            SafeTensors.write(f, Map.of("w", m.ones(new Shape(64, 64))), Map.of(), SafeTensors.Storage.F32);
            byte[] bytes = Files.readAllBytes(f);
            Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 100));
            CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f, m));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());

            Files.write(f, java.util.Arrays.copyOf(bytes, 5));
            e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f, m));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());

            Files.write(f, "garbage that is not a header at all".getBytes(StandardCharsets.UTF_8));
            e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f, m));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        }
    }

    @Test
    void aShapeWhoseElementCountOverflowsALongIsRefusedBeforeAnythingIsAllocated() throws Exception {
        // 2^32 · 2^32 = 2^64 wraps to 0 in a long: without the check, 0 elements "fit" the empty byte range
        Path f = crafted("overflow.safetensors", "F32", "[4294967296, 4294967296]", 0, 0);
        CheckpointException e = refused(f);
        assertTrue(e.getMessage().contains("tensor w: shape (4294967296, 4294967296) has more elements than a long holds"),
                e.getMessage());
    }

    @Test
    void aShapeWhoseByteCountOverflowsALongIsRefused() throws Exception {
        // 2^31 · 2^31 = 2^62 elements fit a long (not an int); times 4 bytes = 2^64 wraps to 0
        Path f = crafted("bytes.safetensors", "F32", "[2147483648, 2147483648]", 0, 0);
        CheckpointException e = refused(f);
        assertTrue(e.getMessage().contains("tensor w: shape (2147483648, 2147483648) of F32 needs more bytes than a long holds"),
                e.getMessage());
        // the same for a 2-byte type: 2^32 · 2^31 = 2^63 elements overflow already
        assertTrue(refused(crafted("f16.safetensors", "F16", "[4294967296, 2147483648]", 0, 0)).getMessage()
                .contains("more elements than a long holds"));
    }

    @Test
    void aShapeLargerThanAnIntButWithinALongMustMatchItsDataOffsets() throws Exception {
        // 2^31 elements: the product overflows an int but not a long; the 8 data bytes cannot hold 2^33 bytes
        Path f = crafted("int.safetensors", "F32", "[2147483648]", 0, 8);
        CheckpointException e = refused(f);
        assertTrue(e.getMessage().contains("tensor w: 8 bytes do not hold shape (2147483648) of F32 (8589934592 bytes)"),
                e.getMessage());
        // a zero dimension is an empty tensor, not an overflow, whatever the other dimensions are
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray empty = SafeTensors.read(crafted("empty.safetensors", "F32", "[0, 9223372036854775807]", 0, 0), m)
                    .tensors().get("w");
            assertEquals(new Shape(0, Long.MAX_VALUE), empty.getShape());
            assertEquals(0, empty.size());
        }
    }

    @Test
    void aMalformedMetadataEntryIsRefusedWithPathAndReason() throws Exception {
        byte[] json = "{\"__metadata__\": 5}".getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve("meta.safetensors");
        Files.write(f, ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).array());
        CheckpointException e = refused(f);
        assertTrue(e.getMessage().contains("__metadata__ is not an object of strings"), e.getMessage());
    }

    /** A file holding one tensor {@code w} with the given header fields and 8 data bytes. */
    private Path crafted(String name, String dtype, String shape, long begin, long end) throws Exception {
        String header = "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve(name);
        Files.write(f, ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).putLong(0).array());
        return f;
    }

    private static CheckpointException refused(Path f) {
        try (NDManager m = NDManager.newBaseManager()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f, m));
            assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
            assertEquals(f, e.path());
            return e;
        }
    }

    @Test
    void moduleCheckpointRoundTripsAndRefusesWrongShapes() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny saved = new Tiny(m, new TinyConfig(3, 4), 1);
            Checkpoints.save(dir.resolve("ok"), "tiny", new TinyConfig(3, 4), saved, SafeTensors.Storage.F32);
            assertEquals(new TinyConfig(3, 4), Checkpoints.readConfig(dir.resolve("ok"), "tiny", TinyConfig.class));

            Tiny loaded = new Tiny(m, new TinyConfig(3, 4), 99);
            Checkpoints.loadWeights(dir.resolve("ok"), loaded, m);
            saved.parameters().forEach((name, p) -> assertArrayEquals(p.array().toFloatArray(),
                    loaded.parameters().get(name).array().toFloatArray(), 0f, name));

            Tiny wrong = new Tiny(m, new TinyConfig(3, 5), 1);
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Checkpoints.loadWeights(dir.resolve("ok"), wrong, m));
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("a.weight has shape (4, 3) but the model expects (5, 3)"), e.getMessage());

            Path bad = dir.resolve("bad");
            Checkpoints.save(bad, "tiny", new TinyConfig(3, 4), saved, SafeTensors.Storage.F32);
            Files.writeString(bad.resolve("config.json"), Files.readString(bad.resolve("config.json"))
                    .replace("\"in\": 3", "\"in\": -3"));
            CheckpointException invalid = assertThrows(CheckpointException.class,
                    () -> Checkpoints.readConfig(bad, "tiny", TinyConfig.class));
            assertTrue(invalid.getMessage().contains("config.json") && invalid.getMessage().contains("in must be positive"),
                    invalid.getMessage());

            CheckpointException k = assertThrows(CheckpointException.class,
                    () -> Checkpoints.readConfig(dir.resolve("ok"), "dvae", TinyConfig.class));
            assertTrue(k.getMessage().contains("config.json") && k.getMessage().contains("'dvae'"), k.getMessage());
        }
    }
}
