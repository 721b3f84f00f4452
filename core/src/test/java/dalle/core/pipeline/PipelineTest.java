package dalle.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.ModelBundle;
import dalle.core.bundle.TestBundles;
import dalle.core.io.CheckpointException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process pipeline end to end on a small random-weight bundle written to disk and loaded back. */
class PipelineTest {

    @TempDir static Path root;
    static Path bundleDir;

    static BundleManifest writeBundle(Path dir, int priorCodes) throws Exception {
        return TestBundles.write(dir, priorCodes);
    }

    @BeforeAll
    static void bundle() throws Exception {
        bundleDir = root.resolve("bundle");
        writeBundle(bundleDir, 64);
    }

    @Test
    void generatesTheTopKRankedByScoreAndTheSameBytesForTheSameSeed() {
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            Pipeline pipeline = new Pipeline(bundle);
            GenerationRequest request = GenerationRequest.of("a small red circle above a blue square", 6, 3, 11);
            List<String> stages = new ArrayList<>();
            Generation a = pipeline.generate(request, (stage, done, total) -> {
                if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(stage)) {
                    stages.add(stage);
                }
                assertTrue(done <= total, stage + " " + done + "/" + total);
            });
            Generation b = pipeline.generate(request);

            assertEquals(List.of("sample", "decode", "rerank"), stages);
            assertEquals(3, a.top().size());
            assertEquals(6, a.ranked().size());
            assertEquals(bundle.version(), a.bundleVersion());
            assertTrue(a.bundleVersion().startsWith("test-"), a.bundleVersion());
            for (int i = 1; i < a.ranked().size(); i++) {
                assertTrue(a.ranked().get(i - 1).score() >= a.ranked().get(i).score(), "ranked best first");
            }
            for (int i = 0; i < a.ranked().size(); i++) {
                Candidate x = a.ranked().get(i);
                Candidate y = b.ranked().get(i);
                assertEquals(x.index(), y.index());
                assertArrayEquals(x.codes(), y.codes());
                assertEquals(x.score(), y.score());
                assertArrayEquals(x.image().toPng(), y.image().toPng(), "same seed, same PNG bytes");
                assertEquals(32, x.image().width());
                assertEquals(16, x.codes().length);
            }
        }
    }

    @Test
    void scoresAreThoseOfTheDecodedPngsAsAServiceReadsThem() throws Exception {
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            Pipeline pipeline = new Pipeline(bundle);
            Generation g = pipeline.generate(GenerationRequest.of("a blue square", 5, 5, 3));
            int[] text = pipeline.tokenize("a blue square");
            List<dalle.core.image.RgbImage> fromPng = new ArrayList<>();
            // read back in ranked order and scored one by one: another order and other batches than generate's
            List<Candidate> byIndex = g.ranked();
            for (Candidate c : byIndex) {
                fromPng.add(dalle.core.image.RgbImage.from(javax.imageio.ImageIO.read(
                        new java.io.ByteArrayInputStream(c.image().toPng()))));
            }
            float[] rescored = new float[fromPng.size()];
            for (int i = 0; i < rescored.length; i++) {
                rescored[i] = pipeline.score(text, fromPng.subList(i, i + 1), Pipeline.Progress.NONE)[0];
            }
            for (int i = 0; i < rescored.length; i++) {
                assertEquals(byIndex.get(i).score(), rescored[i], 0f, "candidate " + byIndex.get(i).index()
                        + ": the in-process score is the score of its PNG, bit for bit");
            }
            List<int[]> codes = byIndex.stream().map(Candidate::codes).toList();
            List<dalle.core.image.RgbImage> decodedAgain = pipeline.decode(codes.subList(1, codes.size()),
                    Pipeline.Progress.NONE);
            for (int i = 1; i < codes.size(); i++) {
                assertArrayEquals(byIndex.get(i).image().chw(), decodedAgain.get(i - 1).chw(), 0f,
                        "decoding does not depend on the other grids decoded with it");
            }
        }
    }

    @Test
    void aCandidateDoesNotDependOnHowManyOthersWereRequested() {
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            Pipeline pipeline = new Pipeline(bundle);
            Generation few = pipeline.generate(GenerationRequest.of("a green triangle", 2, 1, 5));
            Generation many = pipeline.generate(GenerationRequest.of("a green triangle", 7, 1, 5));
            Generation other = pipeline.generate(GenerationRequest.of("a green triangle", 2, 1, 6));
            for (Candidate c : few.ranked()) {
                Candidate same = many.ranked().stream().filter(d -> d.index() == c.index()).findFirst().orElseThrow();
                assertArrayEquals(c.codes(), same.codes(), "candidate " + c.index());
                assertEquals(c.score(), same.score(), 1e-5f);
            }
            boolean differs = false;
            for (int i = 0; i < 2; i++) {
                int index = i;
                int[] x = few.ranked().stream().filter(d -> d.index() == index).findFirst().orElseThrow().codes();
                int[] y = other.ranked().stream().filter(d -> d.index() == index).findFirst().orElseThrow().codes();
                differs |= !java.util.Arrays.equals(x, y);
            }
            assertTrue(differs, "another seed gives other candidates");
        }
    }

    @Test
    void invalidRequestsAreRefusedNamingTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of(" ", 4, 1, 0))
                .getMessage().startsWith("caption"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of("x".repeat(1001), 4, 1, 0))
                .getMessage().startsWith("caption"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of("a", 0, 1, 0))
                .getMessage().startsWith("candidates"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of("a", 513, 1, 0))
                .getMessage().startsWith("candidates"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.of("a", 4, 5, 0))
                .getMessage().startsWith("top_k"));
    }

    @Test
    void aModifiedPartIsRefusedWithItsPath() throws Exception {
        Path dir = root.resolve("tampered");
        writeBundle(dir, 64);
        Path weights = dir.resolve("prior").resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(f.length() - 1);
            int last = f.read();
            f.seek(f.length() - 1);
            f.write(last ^ 0x55);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelBundle.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("prior").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("differs from the manifest"), e.getMessage());
    }

    @Test
    void partsThatDoNotFitTogetherAreRefused() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> writeBundle(root.resolve("mismatch"), 128));
        assertTrue(e.getMessage().contains("do not match the dVAE"), e.getMessage());
        assertFalse(root.resolve("mismatch").resolve("bundle.json").toFile().exists());
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> ModelBundle.load(root.resolve("nowhere")));
        assertTrue(missing.getMessage().contains("bundle.json"), missing.getMessage());
    }
}
