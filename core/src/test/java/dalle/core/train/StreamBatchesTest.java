package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import dalle.core.data.readers.DataSourceException;
import dalle.core.data.readers.Readers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamBatchesTest {

    @TempDir Path dir;

    /** Five good captioned images and one corrupt one, named so that the corrupt one sorts third. */
    private Path folder() throws Exception {
        Path root = dir.resolve("data");
        Files.createDirectories(root);
        var shapes = TinyRuns.shapes(1);
        String[] names = {"a", "b", "d", "e", "f"};
        for (int i = 0; i < names.length; i++) {
            Example e = shapes.example(i);
            Files.write(root.resolve(names[i] + ".png"), e.image().toPng());
            Files.writeString(root.resolve(names[i] + ".txt"), "caption " + names[i]);
        }
        Files.write(root.resolve("c.png"), new byte[] {1, 2, 3});
        Files.writeString(root.resolve("c.txt"), "caption c");
        return root;
    }

    private static List<String> captions(List<Example> batch) {
        return batch.stream().map(Example::caption).toList();
    }

    @Test
    void batchesRunThroughPassesInOrderSkippingBadRecords() throws Exception {
        Path root = folder();
        try (ExampleBatches batches = ExampleBatches.stream(Readers.open(root, 32), root)) {
            List<String> seen = new ArrayList<>();
            for (int step = 0; step < 4; step++) {
                seen.addAll(captions(batches.batch(step, 3)));
            }
            assertEquals(List.of("caption a", "caption b", "caption d", "caption e", "caption f", "caption a",
                    "caption b", "caption d", "caption e", "caption f", "caption a", "caption b"), seen);
            String summary = batches.summary();
            assertTrue(summary.contains("per pass (5 examples)") && summary.contains("skipped 1"), summary);
        }
    }

    @Test
    void aResumedReaderStartsAtTheBatchItIsAskedFor() throws Exception {
        Path root = folder();
        List<String> straight;
        try (ExampleBatches batches = ExampleBatches.stream(Readers.open(root, 32), root)) {
            for (int step = 0; step < 5; step++) {
                batches.batch(step, 3);
            }
            straight = captions(batches.batch(5, 3));
        }
        try (ExampleBatches resumed = ExampleBatches.stream(Readers.open(root, 32), root)) {
            assertEquals(straight, captions(resumed.batch(5, 3)), "positions 15..17 = pass 4, items 0..2");
        }
        assertEquals(List.of("caption a", "caption b", "caption d"), straight);
    }

    @Test
    void aSourceWithNoUsableExampleFailsNamingThePath() throws Exception {
        Path root = dir.resolve("bad");
        Files.createDirectories(root);
        Files.write(root.resolve("x.png"), new byte[] {1, 2, 3});
        Files.writeString(root.resolve("x.txt"), "caption x");
        try (ExampleBatches batches = ExampleBatches.stream(Readers.open(root, 32), root)) {
            DataSourceException e = assertThrows(DataSourceException.class, () -> batches.batch(0, 2));
            assertEquals(root, e.path());
        }
    }

    @Test
    void shapesBatchesAreConsecutiveItemsOfTheDataSet() {
        var shapes = TinyRuns.shapes(4);
        ExampleBatches batches = ExampleBatches.shapes(shapes);
        assertEquals(shapes.example(6).caption(), batches.batch(2, 3).get(0).caption());
        assertEquals(shapes.example(8).source(), batches.batch(2, 3).get(2).source());
    }
}
