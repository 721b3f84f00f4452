package dalle.core.data.readers;

import static dalle.core.data.readers.Fixtures.assertSolid;
import static dalle.core.data.readers.Fixtures.readAll;
import static dalle.core.data.readers.Fixtures.write;
import static dalle.core.data.readers.FolderReaderTest.captions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import dalle.core.data.readers.CocoCaptionsReader.CaptionMode;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CocoCaptionsReaderTest {

    private static final String IMAGES = """
            "images": [
              {"license": 3, "file_name": "000000000001.jpg", "height": 40, "width": 60, "id": 1},
              {"file_name": "000000000002.png", "id": 2, "coco_url": "http://example.invalid/2.png"},
              {"file_name": "000000000003.png", "id": 3},
              {"file_name": "missing.png", "id": 4},
              {"file_name": "../outside.png", "id": 5},
              {"file_name": "no-id.png"}
            ]""";

    private static final String ANNOTATIONS = """
            "annotations": [
              {"image_id": 1, "id": 10, "caption": "An orange thing.\\n"},
              {"image_id": 2, "id": 20, "caption": "A teal square."},
              {"image_id": 1, "id": 11, "caption": "Another orange thing."},
              {"image_id": 3, "id": 30, "caption": "Its image is corrupt."},
              {"image_id": 4, "id": 40, "caption": "Its image file is missing."},
              {"image_id": 99, "id": 990, "caption": "No such image id."},
              {"image_id": 2, "id": 21},
              {"image_id": 2, "id": 22, "caption": "%s"},
              {"id": 50, "caption": "No image id."},
              {"image_id": 5, "id": 51, "caption": "Escapes the folder."},
              {"image_id": 2, "id": 23, "caption": "   "},
              {"image_id": 2, "id": 24, "caption": "The teal square again."}
            ]""".formatted("z".repeat(41));

    @TempDir
    Path dir;
    Path images;

    @BeforeEach
    void writeImages() throws IOException {
        images = dir.resolve("val2017");
        write(images.resolve("000000000001.jpg"), Fixtures.jpeg(60, 40, Color.ORANGE));
        write(images.resolve("000000000002.png"), Fixtures.png(10, 10, new Color(0, 128, 128)));
        write(images.resolve("000000000003.png"), Fixtures.junk());
        write(dir.resolve("outside.png"), Fixtures.png(10, 10, Color.RED));
    }

    @ParameterizedTest(name = "images first: {0}")
    @ValueSource(booleans = {true, false})
    void everyCaptionModeYieldsOneExamplePerGoodAnnotationInEitherArrayOrder(boolean imagesFirst) throws IOException {
        Path json = annotations(imagesFirst);
        CocoCaptionsReader reader = new CocoCaptionsReader(json, images, CaptionMode.EVERY_CAPTION,
                ReaderOptions.of(12).withMaxCaptionChars(40));

        List<Example> examples = readAll(reader);

        assertEquals(List.of("An orange thing.", "A teal square.", "Another orange thing.", "The teal square again."),
                captions(examples));
        assertEquals(images.resolve("000000000001.jpg") + "#10", examples.get(0).source());
        assertEquals(12, examples.get(0).image().width());
        assertSolid(examples.get(0), Color.ORANGE, 0.03f);
        assertSolid(examples.get(1), new Color(0, 128, 128), 1e-6f);
        ReadStats s = reader.stats();
        assertEquals(4, s.read());
        assertEquals(1, s.skippedCorruptImage(), s.problems().toString());
        assertEquals(2, s.skippedMissingImage(), s.problems().toString()); // id 4's file, id 99
        assertEquals(2, s.skippedMissingCaption(), s.problems().toString()); // absent, blank
        assertEquals(1, s.skippedOversizedCaption());
        assertEquals(2, s.skippedOther(), s.problems().toString()); // no image_id, outside the folder
        assertEquals(0, s.sourceErrors());
    }

    @Test
    void firstCaptionModeYieldsOneExamplePerImageAndCountsEachBadImageOnce() throws IOException {
        CocoCaptionsReader reader = new CocoCaptionsReader(annotations(true), images, CaptionMode.FIRST_CAPTION,
                ReaderOptions.of(4).withMaxCaptionChars(40));

        assertEquals(List.of("An orange thing.", "A teal square."), captions(readAll(reader)));
        ReadStats s = reader.stats();
        assertEquals(2, s.read());
        assertEquals(1, s.skippedCorruptImage());
        assertEquals(2, s.skippedMissingImage());
        assertEquals(0, s.skippedMissingCaption() + s.skippedOversizedCaption(), "image 2 was done before them");
    }

    @Test
    void firstCaptionModeFallsThroughABadFirstCaption() throws IOException {
        Path json = write(dir.resolve("captions.json"), """
                {"annotations": [{"image_id": 2, "caption": ""}, {"image_id": 2, "caption": "second"},
                                 {"image_id": 2, "caption": "third"}],
                 "images": [{"id": 2, "file_name": "000000000002.png"}]}""");
        CocoCaptionsReader reader =
                new CocoCaptionsReader(json, images, CaptionMode.FIRST_CAPTION, ReaderOptions.of(4));
        assertEquals(List.of("second"), captions(readAll(reader)));
        assertEquals(1, reader.stats().skippedMissingCaption());
    }

    @Test
    void aFileWithoutAnImagesArrayIsAnErrorNamingIt() throws IOException {
        Path json = write(dir.resolve("captions.json"), "{\"annotations\": []}");
        CocoCaptionsReader reader =
                new CocoCaptionsReader(json, images, CaptionMode.EVERY_CAPTION, ReaderOptions.of(4));
        DataSourceException e = assertThrows(DataSourceException.class, reader::iterator);
        assertTrue(e.getMessage().startsWith(json.toString()) && e.getMessage().contains("\"images\""), e.getMessage());
    }

    @Test
    void malformedJsonIsAnErrorNamingTheFile() throws IOException {
        Path json = write(dir.resolve("captions.json"), "{\"images\": [ {\"id\": 1, ");
        CocoCaptionsReader reader =
                new CocoCaptionsReader(json, images, CaptionMode.EVERY_CAPTION, ReaderOptions.of(4));
        DataSourceException e = assertThrows(DataSourceException.class, reader::iterator);
        assertTrue(e.getMessage().startsWith(json.toString()), e.getMessage());
    }

    @Test
    void theImageFolderIsGuessedFromTheUsualCocoLayout() throws IOException {
        Path json = write(dir.resolve("annotations/captions_val2017.json"), "{}");
        assertEquals(images.toAbsolutePath(), CocoCaptionsReader.guessImageDirectory(json));
        Path other = write(dir.resolve("elsewhere/mine.json"), "{}");
        assertEquals(other.toAbsolutePath().getParent(), CocoCaptionsReader.guessImageDirectory(other));
    }

    private Path annotations(boolean imagesFirst) throws IOException {
        String body = imagesFirst ? IMAGES + ",\n" + ANNOTATIONS : ANNOTATIONS + ",\n" + IMAGES;
        Path json = dir.resolve("annotations/captions_val2017.json");
        Files.createDirectories(json.getParent());
        return write(json, "{\"info\": {\"year\": 2017}, " + body + ", \"licenses\": [{\"id\": 3}]}");
    }
}
