package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DvaeTest {

    private static final DvaeConfig TINY = DvaeConfig.tiny();
    private static NDManager manager;
    private static Dvae model;

    @BeforeAll
    static void buildTinyModel() {
        manager = NDManager.newBaseManager();
        model = new Dvae(manager, TINY, 7);
    }

    @AfterAll
    static void free() {
        manager.close();
    }

    @Test
    void tinyModelProducesTheDocumentedShapes() {
        try (NDManager step = manager.newSubManager()) {
            NDArray images = Squares.batch(step, 2, 64, 1);
            NDArray logits = model.logits(images);
            assertEquals(new Shape(2, 512, 8, 8), logits.getShape());
            assertEquals(DataType.FLOAT32, logits.getDataType());
            NDArray codes = model.encode(images);
            assertEquals(new Shape(2, 64), codes.getShape());
            assertEquals(DataType.INT64, codes.getDataType());
            NDArray decoded = model.decode(codes);
            assertEquals(new Shape(2, 3, 64, 64), decoded.getShape());
            assertTrue(decoded.min().getFloat() >= 0f && decoded.max().getFloat() <= 1f, "decoded pixels in [0, 1]");
            assertEquals(new Shape(2, 3, 64, 64), model.reconstruct(images).getShape());
        }
    }

    @Test
    void aSixteenBySixteenGridOnSixtyFourPixelsProducesTheDocumentedShapes() {
        try (NDManager scope = manager.newSubManager()) {
            Dvae fine = new Dvae(scope, new DvaeConfig(64, 16, 64, 16, 1, 8), 3);
            NDArray images = Squares.batch(scope, 2, 64, 1);
            assertEquals(new Shape(2, 64, 16, 16), fine.logits(images).getShape());
            NDArray codes = fine.encode(images);
            assertEquals(new Shape(2, 256), codes.getShape());
            assertEquals(new Shape(2, 3, 64, 64), fine.decode(codes).getShape());
        }
    }

    @Test
    void encodingIsDeterministicInRangeAndInRasterOrder() {
        try (NDManager step = manager.newSubManager()) {
            NDArray images = Squares.batch(step, 2, 64, 2);
            long[] codes = model.encode(images).toLongArray();
            assertArrayEquals(codes, model.encode(images).toLongArray(), "no noise at encoding time");
            for (long c : codes) {
                assertTrue(c >= 0 && c < 512, "code " + c);
            }
            // codes[b, r·G + c] = argmax_k logits[b, k, r, c]
            float[] logits = model.logits(images).toFloatArray();
            int k = 512;
            int g = 8;
            for (int b = 0; b < 2; b++) {
                for (int pos = 0; pos < g * g; pos++) {
                    int best = 0;
                    for (int j = 1; j < k; j++) {
                        if (logits[(b * k + j) * g * g + pos] > logits[(b * k + best) * g * g + pos]) {
                            best = j;
                        }
                    }
                    assertEquals(best, codes[b * g * g + pos], "image " + b + " position " + pos);
                }
            }
        }
    }

    @Test
    void lossIsReconstructionPlusWeightedKlPerPixelChannel() {
        try (NDManager step = manager.newSubManager()) {
            NDArray images = Squares.batch(step, 2, 64, 3);
            DvaeLoss loss = model.loss(images, 1f, 2f, new SplittableRandom(1));
            float rec = loss.reconstruction().getFloat();
            float kl = loss.kl().getFloat();
            assertTrue(Float.isFinite(rec) && kl > 0f, "reconstruction " + rec + ", KL " + kl);
            assertEquals(rec + 2f * kl / (3 * 64 * 64), loss.total().getFloat(), 1e-5f);
        }
    }

    @Test
    void fittedOutputBiasesDecodeToTheDataMedianColourAndScale() {
        try (NDManager m = NDManager.newBaseManager()) {
            DvaeConfig config = new DvaeConfig(16, 2, 8, 8, 1, 4);
            Dvae dvae = new Dvae(m, config, 5);
            // 90% black, 10% pure red: the median pixel is black in every channel
            float[] px = new float[2 * 3 * 16 * 16];
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < 26; i++) {
                    px[(b * 3) * 256 + i] = 1f; // red channel of the first 26 of 256 pixels
                }
            }
            NDArray images = m.create(px, new Shape(2, 3, 16, 16));
            dvae.fitOutputBiases(images);
            float[] bias = dvae.parameters().get("decoder.output.bias").array().toFloatArray();
            float black = (float) Math.log(LogitLaplace.EPSILON / (1 - LogitLaplace.EPSILON));
            for (int c = 0; c < 3; c++) {
                assertEquals(black, bias[c], 1e-4f, "μ bias of channel " + c);
            }
            // red: 26/256 of the values sit 2·|logit ε| away from the median; green and blue never leave it
            assertEquals(Math.log(26.0 / 256 * 2 * Math.abs(black)), bias[3], 1e-3);
            assertEquals(-5f, bias[4], 1e-4f);
            assertEquals(-5f, bias[5], 1e-4f);
        }
    }

    @Test
    void refusesImagesOfTheWrongSize() {
        try (NDManager step = manager.newSubManager()) {
            NDArray images = step.zeros(new Shape(1, 3, 32, 32));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.encode(images));
            assertTrue(e.getMessage().contains("(1, 3, 32, 32)"), e.getMessage());
        }
    }

    @Test
    void saveThenLoadGivesIdenticalDecodingInF32AndCloseInF16(@TempDir Path dir) throws IOException {
        try (NDManager step = manager.newSubManager()) {
            NDArray codes = step.create(new SplittableRandom(3).longs(2 * 64, 0, 512).toArray(), new Shape(2, 64));
            float[] expected = model.decode(codes).toFloatArray();

            model.save(dir.resolve("f32"), SafeTensors.Storage.F32);
            Dvae f32 = Dvae.load(dir.resolve("f32"), step);
            assertEquals(TINY, f32.config());
            assertArrayEquals(expected, f32.decode(codes).toFloatArray());

            model.save(dir.resolve("f16"), SafeTensors.Storage.F16);
            float[] half = Dvae.load(dir.resolve("f16"), step).decode(codes).toFloatArray();
            float maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - half[i]));
            }
            assertTrue(maxDiff < 1e-2f, "F16 checkpoint changes pixels by " + maxDiff);
        }
    }

    @Test
    void loadingWeightsSavedForAnotherShapeIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        model.save(dir, SafeTensors.Storage.F32);
        Path config = dir.resolve(Checkpoints.CONFIG_FILE);
        Files.writeString(config, Files.readString(config).replace("\"width\": 32", "\"width\": 64"));
        try (NDManager step = manager.newSubManager()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Dvae.load(dir, step));
            assertEquals(dir.resolve(Checkpoints.WEIGHTS_FILE), e.path());
            assertTrue(e.getMessage().contains(Checkpoints.WEIGHTS_FILE) && e.getMessage().contains("shape"),
                    e.getMessage());
        }
    }

    @Test
    void loadingAnInvalidConfigIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        model.save(dir, SafeTensors.Storage.F32);
        Path config = dir.resolve(Checkpoints.CONFIG_FILE);
        Files.writeString(config, Files.readString(config).replace("\"imageSize\": 64", "\"imageSize\": 60"));
        try (NDManager step = manager.newSubManager()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Dvae.load(dir, step));
            assertEquals(config, e.path());
            assertTrue(e.getMessage().contains("imageSize 60"), e.getMessage());
        }
    }
}
