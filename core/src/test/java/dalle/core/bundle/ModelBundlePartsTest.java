package dalle.core.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.image.RgbImage;
import dalle.core.io.CheckpointException;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each stage loads only its own parts, from a directory that holds only them and bundle.json. */
class ModelBundlePartsTest {

    @TempDir static Path tmp;
    static Path whole;

    @BeforeAll
    static void writeBundle() throws Exception {
        whole = tmp.resolve("whole");
        TestBundles.write(whole);
    }

    /** A copy of the bundle with only {@code parts} and bundle.json. */
    static Path only(String name, BundlePart... parts) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(whole.resolve(BundleManifest.FILE), dir.resolve(BundleManifest.FILE));
        BundleManifest m = ModelBundle.readManifest(whole);
        for (BundlePart p : parts) {
            Path from = whole.resolve(p.of(m).path());
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : files.toList()) {
                    Path to = dir.resolve(whole.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to);
                    }
                }
            }
        }
        return dir;
    }

    @Test
    void eachStageLoadsFromADirectoryHoldingOnlyItsPartsAndComputesAsTheWholeBundle() throws Exception {
        try (ModelBundle all = ModelBundle.load(whole)) {
            Pipeline reference = new Pipeline(all);
            int[] text = reference.tokenize("a red circle");
            List<int[]> codes = reference.sample(text, 2, 0, 7L, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
            List<RgbImage> images = reference.decode(codes, Pipeline.Progress.NONE);
            float[] scores = reference.score(text, images, Pipeline.Progress.NONE);

            try (ModelBundle b = ModelBundle.load(only("tokenizer", BundlePart.TOKENIZER), Set.of(BundlePart.TOKENIZER))) {
                assertArrayEquals(text, new Pipeline(b).tokenize("a red circle"));
                assertEquals(all.sizes(), b.sizes());
                assertEquals(all.version(), b.version());
                IllegalStateException e = assertThrows(IllegalStateException.class, b::manager);
                assertTrue(e.getMessage().contains("loaded with tokenizer only"), e.getMessage());
            }
            try (ModelBundle b = ModelBundle.load(only("prior", BundlePart.PRIOR), Set.of(BundlePart.PRIOR))) {
                List<int[]> got = new Pipeline(b).sample(text, 2, 0, 7L, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
                for (int i = 0; i < 2; i++) {
                    assertArrayEquals(codes.get(i), got.get(i));
                }
                assertFalse(b.has(BundlePart.DVAE));
                assertThrows(IllegalStateException.class, () -> new Pipeline(b).tokenize("a red circle"));
            }
            try (ModelBundle b = ModelBundle.load(only("dvae", BundlePart.DVAE), Set.of(BundlePart.DVAE))) {
                List<RgbImage> got = new Pipeline(b).decode(codes, Pipeline.Progress.NONE);
                for (int i = 0; i < 2; i++) {
                    assertArrayEquals(images.get(i).toPng(), got.get(i).toPng());
                }
            }
            try (ModelBundle b = ModelBundle.load(only("reranker", BundlePart.CLIP, BundlePart.TOKENIZER),
                    EnumSet.of(BundlePart.CLIP, BundlePart.TOKENIZER))) {
                assertArrayEquals(scores, new Pipeline(b).score(text, images, Pipeline.Progress.NONE));
            }
        }
    }

    @Test
    void aMissingOrModifiedLoadedPartIsRefusedWithItsPath() throws Exception {
        Path dir = only("missing", BundlePart.DVAE);
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> ModelBundle.load(dir, Set.of(BundlePart.PRIOR)));
        assertTrue(missing.getMessage().contains(dir.resolve("prior").toString()), missing.getMessage());
        Path modified = only("modified", BundlePart.TOKENIZER);
        Files.writeString(modified.resolve("tokenizer.json"), "{}");
        CheckpointException changed = assertThrows(CheckpointException.class,
                () -> ModelBundle.load(modified, Set.of(BundlePart.TOKENIZER)));
        assertTrue(changed.getMessage().contains("differs from the manifest"), changed.getMessage());
    }

    @Test
    void aManifestWithoutSizesLoadsWholeButNotInPartsAndWrongSizesAreRefused() throws Exception {
        Path old = only("old", BundlePart.values());
        String json = Files.readString(old.resolve(BundleManifest.FILE));
        Files.writeString(old.resolve(BundleManifest.FILE), json.replaceAll("(?s)\"sizes\": \\{[^}]*},", ""));
        try (ModelBundle b = ModelBundle.load(old)) {
            assertEquals(8, b.sizes().textLength());
        }
        CheckpointException partial = assertThrows(CheckpointException.class,
                () -> ModelBundle.load(old, Set.of(BundlePart.DVAE)));
        assertTrue(partial.getMessage().contains("no \"sizes\""), partial.getMessage());

        Path wrong = only("wrong", BundlePart.PRIOR);
        Files.writeString(wrong.resolve(BundleManifest.FILE), Files.readString(wrong.resolve(BundleManifest.FILE))
                .replace("\"textLength\": 8", "\"textLength\": 9"));
        CheckpointException sizes = assertThrows(CheckpointException.class,
                () -> ModelBundle.load(wrong, Set.of(BundlePart.PRIOR)));
        assertTrue(sizes.getMessage().contains("the prior reads 8 text slots"), sizes.getMessage());
    }
}
