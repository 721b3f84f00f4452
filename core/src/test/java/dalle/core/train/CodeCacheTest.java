package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.dvae.Dvae;
import dalle.core.image.RgbImage;
import dalle.core.io.CheckpointException;
import dalle.core.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodeCacheTest {

    @TempDir Path dir;

    @Test
    void holdsTheDvaeCodesOfEachCaptionedImageAndRoundTrips() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(manager, TinyRuns.DVAE, 5);
            var shapes = TinyRuns.shapes(1);
            CodeCache cache = CodeCache.build(dvae, "x", shapes.examples(0, 70).iterator(), 70, "shapes:test", manager,
                    n -> { });
            assertEquals(70, cache.size());
            assertEquals(16, cache.tokens());
            // example 66 (in the second encoding batch) has the codes dvae.encode gives it alone
            long[] direct = dvae.encode(RgbImage.stack(manager, List.of(shapes.example(66).image()))).toLongArray();
            int[] cached = new int[16];
            cache.copyCodes(66, cached, 0);
            for (int t = 0; t < 16; t++) {
                assertEquals(direct[t], cached[t], "token " + t);
            }
            assertEquals(shapes.example(66).caption(), cache.caption(66));

            Path file = dir.resolve(CodeCache.FILE);
            cache.save(file);
            CodeCache back = CodeCache.load(file);
            assertEquals(cache.header(), back.header());
            assertEquals(cache.captions(), back.captions());
            int[] again = new int[16];
            back.copyCodes(66, again, 0);
            assertArrayEquals(cached, again);
        }
    }

    @Test
    void aDamagedCacheIsRefusedNamingTheFile() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(manager, TinyRuns.DVAE, 5);
            CodeCache cache = CodeCache.build(dvae, "x", TinyRuns.shapes(1).examples(0, 8).iterator(), 8, "t",
                    manager, n -> { });
            Path file = dir.resolve(CodeCache.FILE);
            cache.save(file);
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length - 20] ^= 0x10;
            Files.write(file, bytes);
            CheckpointException e = assertThrows(CheckpointException.class, () -> CodeCache.load(file));
            assertEquals(file, e.path());
            Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            assertTrue(assertThrows(CheckpointException.class, () -> CodeCache.load(file)).getMessage()
                    .contains("truncated"));
        }
    }

    @Test
    void prepareReusesAMatchingCacheAndOnResumeRefusesAnotherDvaes() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Path dvaeDir = dir.resolve("dvae");
            new Dvae(manager, TinyRuns.DVAE, 5).save(dvaeDir, SafeTensors.Storage.F32);
            Path file = dir.resolve(CodeCache.FILE);
            var shapes = TinyRuns.shapes(1);
            List<String> notes = new ArrayList<>();
            int[] encodings = {0};
            CodeCache first = CodeCache.prepare(file, dvaeDir, "shapes:test", () -> {
                encodings[0]++;
                return shapes.examples(0, 10).iterator();
            }, 10, false, manager, n -> { }, notes::add);
            CodeCache second = CodeCache.prepare(file, dvaeDir, "shapes:test", () -> {
                encodings[0]++;
                return shapes.examples(0, 10).iterator();
            }, 10, true, manager, n -> { }, notes::add);
            assertEquals(1, encodings[0], "the second call reads the file");
            assertEquals(first.header(), second.header());

            new Dvae(manager, TinyRuns.DVAE, 6).save(dvaeDir, SafeTensors.Storage.F32);
            CheckpointException e = assertThrows(CheckpointException.class, () -> CodeCache.prepare(file, dvaeDir,
                    "shapes:test", () -> shapes.examples(0, 10).iterator(), 10, true, manager, n -> { }, notes::add));
            assertEquals(file, e.path());
            NDArray unused = manager.zeros(new ai.djl.ndarray.types.Shape(1));
            unused.close();
        }
    }
}
