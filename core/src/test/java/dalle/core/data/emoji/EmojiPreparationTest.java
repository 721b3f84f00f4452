package dalle.core.data.emoji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import dalle.core.data.readers.FolderReader;
import dalle.core.data.readers.ReaderOptions;
import dalle.core.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** From package tarballs to a captioned, split folder that the folder reader trains from. */
class EmojiPreparationTest {

    @TempDir Path dir;

    private EmojiPreparation.Settings settings() throws IOException {
        return new EmojiPreparation.Settings(Map.of(EmojiVendor.GOOGLE, SyntheticEmoji.tarball(dir, EmojiVendor.GOOGLE),
                EmojiVendor.TWITTER, SyntheticEmoji.tarball(dir, EmojiVendor.TWITTER)), 0xFFFFFF, 1);
    }

    @Test
    void writesTrainingAndHeldOutPicturesWithCaptionsAndAnIndex() throws IOException {
        Path out = dir.resolve("emoji");
        EmojiPreparation.Index index = EmojiPreparation.prepare(settings(), out, line -> { });
        int perVendor = 4 * 6 + 2 + 30 + 2;
        assertEquals(2 * perVendor, index.pictures().size());
        assertEquals(Map.of("google train", perVendor - 26, "google held-out-pair", 2, "google held-out-name", 24,
                "twitter train", perVendor - 26, "twitter held-out-pair", 2, "twitter held-out-name", 24), index.counts());
        for (EmojiPreparation.Entry e : index.pictures()) {
            Path png = out.resolve(e.file());
            assertTrue(Files.isRegularFile(png), e.file());
            String txt = e.file().replace(".png", ".txt");
            assertEquals(e.caption() + "\n", Files.readString(out.resolve(txt)));
            assertEquals(!e.split().equals("train"), e.file().startsWith("held-out/"), e.file());
        }
        assertTrue(Files.readString(out.resolve(EmojiPreparation.ATTRIBUTION)).contains("CC-BY 4.0"));
        assertEquals(index.heldOutNames(), PreparedEmoji.open(out).index().heldOutNames(), "the index reads back");

        // the folder reader sees exactly the training pictures, shuffled across vendors by the file names
        List<Example> read = new ArrayList<>();
        try (var pass = new FolderReader(out.resolve(EmojiPreparation.TRAIN_DIR), ReaderOptions.of(64)).iterator()) {
            pass.forEachRemaining(read::add);
        }
        assertEquals(2 * (perVendor - 26), read.size());
        List<String> vendorsInOrder = read.stream().map(x -> x.caption().startsWith("twemoji") ? "t" : "g").toList();
        assertNotEquals(vendorsInOrder.stream().sorted().toList(), vendorsInOrder, "not one vendor after the other");
    }

    @Test
    void compositesAlphaOntoTheBackground() throws IOException {
        Path out = dir.resolve("emoji");
        EmojiPreparation.Index index = EmojiPreparation.prepare(settings(), out, line -> { });
        EmojiPreparation.Entry first = index.pictures().stream()
                .filter(e -> e.vendor().equals("google") && e.code().equals("1F400")).findFirst().orElseThrow();
        RgbImage image = PreparedEmoji.open(out).image(first);
        int rgb = SyntheticEmoji.picture(0).getRGB(32, 32) & 0xFFFFFF;
        for (int c = 0; c < 3; c++) {
            float fg = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
            assertEquals(fg, image.get(c, 32, 32), 1e-6f, "opaque centre keeps its colour");
            assertEquals(Math.round((0.5019608f * fg + (1 - 0.5019608f)) * 255) / 255f, image.get(c, 31, 10), 1e-6f,
                    "alpha 128 ring: α·colour + (1 − α)·white");
            assertEquals(1f, image.get(c, 0, 0), 0f, "transparent corner becomes the background");
        }
    }

    @Test
    void theSameTarballsGiveTheSameBytes() throws IOException {
        EmojiPreparation.Settings s = settings();
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        EmojiPreparation.prepare(s, a, line -> { });
        EmojiPreparation.prepare(s, b, line -> { });
        List<Path> files;
        try (Stream<Path> walk = Files.walk(a)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(a.relativize(f))), f.toString());
        }
    }

    @Test
    void refusesAnExistingOutputAndATarballWithoutEmojiJson() throws IOException {
        Path out = Files.createDirectories(dir.resolve("taken"));
        IOException e = assertThrows(IOException.class, () -> EmojiPreparation.prepare(settings(), out, line -> { }));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        Path notATarball = Files.writeString(dir.resolve("x.tgz"), "not gzip");
        e = assertThrows(IOException.class, () -> EmojiPreparation.prepare(
                new EmojiPreparation.Settings(Map.of(EmojiVendor.GOOGLE, notATarball), 0, 1), dir.resolve("o"), l -> { }));
        assertTrue(e.getMessage().contains("x.tgz"), e.getMessage());
    }
}
