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
