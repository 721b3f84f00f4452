package dalle.core.train;

import dalle.core.data.Example;
import dalle.core.data.readers.ExampleSource;
import dalle.core.data.shapes.ShapesDataset;
import java.nio.file.Path;
import java.util.List;

/**
 * Training batches as a function of the update: batch {@code step} is always the same examples, so a
 * resumed run sees what the uninterrupted one saw.
 */
public interface ExampleBatches extends AutoCloseable {

    /** The {@code size} examples of update {@code step}. */
    List<Example> batch(long step, int size);

    /** The source, for logs and for checking that a resumed run reads the same data. */
    String describe();

    /** What was read and skipped, for the end of the run. */
    String summary();

    @Override
    default void close() {}

    /** The synthetic shapes: batch {@code step} is items {@code step·size ..< (step + 1)·size}, never repeating. */
    static ExampleBatches shapes(ShapesDataset data) {
        return new ShapesBatches(data);
    }

    /** A data set on disk opened from {@code path}, read in order, epoch after epoch (see {@link StreamBatches}). */
    static ExampleBatches stream(ExampleSource source, Path path) {
        return new StreamBatches(source, path);
    }
}
