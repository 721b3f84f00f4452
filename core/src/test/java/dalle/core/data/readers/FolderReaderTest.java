package dalle.core.data.readers;

import static dalle.core.data.readers.Fixtures.assertSolid;
import static dalle.core.data.readers.Fixtures.readAll;
import static dalle.core.data.readers.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderReaderTest {

    @TempDir
    Path dir;

    @Test
    void readsImagesWithTheirCaptionsInPathOrderAtTheRequestedResolution() throws IOException {
        write(dir.resolve("b/cat.jpg"), Fixtures.jpeg(40, 30, Color.ORANGE));
        write(dir.resolve("b/cat.txt"), "an orange cat\n");
        write(dir.resolve("a.png"), Fixtures.png(20, 50, new Color(30, 60, 90)));
        write(dir.resolve("a.txt"), "  a dark blue square  ");
        write(dir.resolve("notes.md"), "ignored");

        FolderReader reader = new FolderReader(dir, ReaderOptions.of(16));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("a dark blue square", "an orange cat"), captions(examples));
        assertEquals(dir.resolve("a.png").toString(), examples.get(0).source());
        for (Example e : examples) {
            assertEquals(16, e.image().width());
            assertEquals(16, e.image().height());
        }
        assertSolid(examples.get(0), new Color(30, 60, 90), 1e-6f);
        assertSolid(examples.get(1), Color.ORANGE, 0.03f); // JPEG is lossy
        assertEquals(2, reader.stats().read());
        assertEquals(0, reader.stats().skipped());
    }

    @Test
    void captionIsTheFirstNonBlankLineTrimmedWithoutByteOrderMark() throws IOException {
        write(dir.resolve("x.png"), Fixtures.png(4, 4, Color.RED));
        write(dir.resolve("x.txt"), "\uFEFF\n   \n  first caption \nsecond caption\n");
        assertEquals(List.of("first caption"), captions(readAll(new FolderReader(dir, ReaderOptions.of(4)))));
    }

    @Test
    void badRecordsAreSkippedAndCountedWhileTheGoodOnesAroundThemAreKept() throws IOException {
        write(dir.resolve("0-good.png"), Fixtures.png(8, 8, Color.RED));
        write(dir.resolve("0-good.txt"), "red");
        write(dir.resolve("1-corrupt.jpg"), Fixtures.junk());
        write(dir.resolve("1-corrupt.txt"), "junk bytes");
        byte[] jpeg = Fixtures.jpeg(Fixtures.noise(64, 1)); // cut in its scan: ImageIO would fill it with grey
        write(dir.resolve("2-truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length * 2 / 3));
        write(dir.resolve("2-truncated.txt"), "two thirds of a jpeg");
        byte[] png = Fixtures.png(Fixtures.noise(64, 2));
        write(dir.resolve("2-truncated.png"), Arrays.copyOf(png, png.length * 2 / 3));
        write(dir.resolve("3-no-caption.png"), Fixtures.png(8, 8, Color.GREEN));
        write(dir.resolve("4-blank-caption.png"), Fixtures.png(8, 8, Color.GREEN));
        write(dir.resolve("4-blank-caption.txt"), " \n\t\n");
        write(dir.resolve("5-long.png"), Fixtures.png(8, 8, Color.GREEN));
        write(dir.resolve("5-long.txt"), "x".repeat(21));
        write(dir.resolve("6-orphan.txt"), "no image");
        write(dir.resolve("7-good.png"), Fixtures.png(8, 8, Color.WHITE));
        write(dir.resolve("7-good.txt"), "white");

        FolderReader reader = new FolderReader(dir, ReaderOptions.of(4).withMaxCaptionChars(20));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("red", "white"), captions(examples));
        ReadStats stats = reader.stats();
        assertEquals(2, stats.read());
        assertEquals(3, stats.skippedCorruptImage(), stats.problems().toString());
        assertEquals(2, stats.skippedMissingCaption(), stats.problems().toString());
        assertEquals(1, stats.skippedOversizedCaption());
        assertEquals(1, stats.skippedMissingImage());
        assertEquals(0, stats.skippedOther());
        assertTrue(stats.problems().stream().anyMatch(p -> p.contains("1-corrupt.jpg")), stats.problems().toString());
    }

    @Test
    void imagesOverThePixelOrByteLimitAreSkippedBeforeDecoding() throws IOException {
        write(dir.resolve("a-wide.png"), Fixtures.png(100, 20, Color.RED)); // 2000 pixels
        write(dir.resolve("a-wide.txt"), "too many pixels");
        write(dir.resolve("b-heavy.png"), Fixtures.png(Fixtures.noise(30, 5))); // ~2.7 KB of noise
        write(dir.resolve("b-heavy.txt"), "too many bytes");
        write(dir.resolve("c-ok.png"), Fixtures.png(10, 10, Color.RED));
        write(dir.resolve("c-ok.txt"), "fits");

        FolderReader reader =
                new FolderReader(dir, ReaderOptions.of(4).withMaxImagePixels(1000).withMaxImageBytes(1000));

        assertEquals(List.of("fits"), captions(readAll(reader)));
        assertEquals(2, reader.stats().skippedOther(), reader.stats().problems().toString());
        assertTrue(reader.stats().problems().get(0).contains("100x20"), reader.stats().problems().toString());
    }

    @Test
    void eachPassReadsAgainWithFreshCounts() throws IOException {
        write(dir.resolve("a.png"), Fixtures.png(4, 4, Color.RED));
        write(dir.resolve("a.txt"), "red");
        write(dir.resolve("b.png"), Fixtures.png(4, 4, Color.RED));
        FolderReader reader = new FolderReader(dir, ReaderOptions.of(4));

        assertEquals(1, reader.stream().count());
        assertEquals(1, readAll(reader).size());
        assertEquals(1, reader.stats().read());
        assertEquals(1, reader.stats().skippedMissingCaption());
    }

    @Test
    void hiddenFilesAreIgnored() throws IOException {
        write(dir.resolve("._a.png"), Fixtures.junk());
        write(dir.resolve("._a.txt"), "macOS resource fork");
        write(dir.resolve("a.png"), Fixtures.png(4, 4, Color.RED));
        write(dir.resolve("a.txt"), "red");
        FolderReader reader = new FolderReader(dir, ReaderOptions.of(4));
        assertEquals(List.of("red"), captions(readAll(reader)));
        assertEquals(0, reader.stats().skipped());
    }

    @Test
    void aFileInsteadOfADirectoryIsAnErrorNamingIt() throws IOException {
        Path file = write(dir.resolve("x.txt"), "x");
        DataSourceException e =
                assertThrows(DataSourceException.class, () -> new FolderReader(file, ReaderOptions.of(4)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    static List<String> captions(List<Example> examples) {
        return examples.stream().map(Example::caption).collect(Collectors.toList());
    }
}
