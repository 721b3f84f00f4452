package dalle.core.data.readers;

import static dalle.core.data.readers.Fixtures.readAll;
import static dalle.core.data.readers.Fixtures.write;
import static dalle.core.data.readers.FolderReaderTest.captions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.readers.Readers.Format;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadersTest {

    @TempDir
    Path dir;

    @Test
    void aDirectoryOfCaptionedImagesOpensAsAFolder() throws IOException {
        write(dir.resolve("deep/down/a.png"), Fixtures.png(4, 4, Color.RED));
        write(dir.resolve("deep/down/a.txt"), "red");
        ExampleSource source = Readers.open(dir, 4);
        assertInstanceOf(FolderReader.class, source);
        assertEquals(List.of("red"), captions(readAll(source)));
    }

    @Test
    void aJsonFileOpensAsCocoWithItsImageFolder() throws IOException {
        write(dir.resolve("train2017/1.png"), Fixtures.png(4, 4, Color.RED));
        Path json = write(dir.resolve("annotations/captions_train2017.json"),
                "{\"images\": [{\"id\": 1, \"file_name\": \"1.png\"}],"
                        + " \"annotations\": [{\"image_id\": 1, \"caption\": \"red\"}]}");
        ExampleSource source = Readers.open(json, 4);
        assertInstanceOf(CocoCaptionsReader.class, source);
        assertEquals(List.of("red"), captions(readAll(source)));
    }

    @Test
    void tarFilesDirectoriesOfShardsAndShardPatternsOpenAsWebDataset() throws IOException {
        for (int i = 0; i < 3; i++) {
            new Fixtures.TarBuilder().file("k.png", Fixtures.png(4, 4, Color.RED)).file("k.txt", "shard " + i)
                    .writeTo(dir.resolve("shards/s-0" + i + ".tar"));
        }
        assertEquals(Format.WEBDATASET, Readers.detect(dir.resolve("shards/s-00.tar")));
        assertEquals(Format.WEBDATASET, Readers.detect(dir.resolve("shards")));
        ExampleSource pattern = Readers.open(dir.resolve("shards/s-{00..01}.tar"), 4);
        assertInstanceOf(WebDatasetReader.class, pattern);
        assertEquals(List.of("shard 0", "shard 1"), captions(readAll(pattern)));
        assertEquals(3, readAll(Readers.open(dir.resolve("shards"), 4)).size());
    }

    @Test
    void aPathThatCannotBeToldApartIsAnErrorNamingIt() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path csv = write(dir.resolve("data.csv"), "a,b");
        Path uncaptioned = write(dir.resolve("uncaptioned/a.png"), Fixtures.png(4, 4, Color.RED)).getParent();
        for (Path p : List.of(empty, csv, uncaptioned)) {
            DataSourceException e = assertThrows(DataSourceException.class, () -> Readers.open(p, 4));
            assertTrue(e.getMessage().startsWith(p + ": cannot tell the format"), e.getMessage());
            assertEquals(p, e.path());
        }
    }

    @Test
    void aMissingPathIsAnErrorNamingIt() {
        Path missing = dir.resolve("nope");
        DataSourceException e = assertThrows(DataSourceException.class, () -> Readers.open(missing, 4));
        assertEquals(missing + ": does not exist", e.getMessage());
        Path pattern = dir.resolve("nope-{0..3}.tar");
        DataSourceException p = assertThrows(DataSourceException.class, () -> Readers.open(pattern, 4));
        assertTrue(p.getMessage().startsWith(pattern.toString()) && p.getMessage().contains("nope-0.tar"),
                p.getMessage());
    }
}
