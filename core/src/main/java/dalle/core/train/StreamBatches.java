package dalle.core.train;

import dalle.core.data.Example;
import dalle.core.data.readers.DataSourceException;
import dalle.core.data.readers.ExampleIterator;
import dalle.core.data.readers.ExampleSource;
import dalle.core.data.readers.ReadStats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link ExampleBatches#stream}: a data set on disk read in its own (deterministic) order, starting a
 * new pass when one ends. Batch {@code step} holds the examples at positions {@code step·size ..<
 * (step + 1)·size} of the endless sequence pass 1, pass 2, ...; bad records are skipped by the reader
 * and are not positions.
 *
 * <p>Batches are meant to be asked for in order; asking for another position (the first batch of a
 * resumed run) skips forward from a new pass, using the pass length once one pass has been seen, so
 * a resume costs at most one pass of reading.
 */
final class StreamBatches implements ExampleBatches {

    private final ExampleSource source;
    private final Path path;
    private ExampleIterator pass;
    private long position;        // examples consumed since the start of the sequence
    private long passStart;       // position at which the current pass began
    private long passLength = -1; // examples per pass, once a pass has ended
    private long passes;
    private ReadStats lastCompleteStats = ReadStats.EMPTY;

    StreamBatches(ExampleSource source, Path path) {
        this.source = source;
        this.path = path;
    }

    @Override
    public List<Example> batch(long step, int size) {
        long first = Math.multiplyExact(step, (long) size);
        if (pass == null || first != position) {
            seek(first);
        }
        List<Example> out = new ArrayList<>(size);
        while (out.size() < size) {
            out.add(next());
        }
        return out;
    }

    private void seek(long target) {
        if (pass != null) {
            pass.close();
        }
        long offset = passLength > 0 ? target % passLength : target;
        openPass(target - offset);
        while (position < target) {
            next();
        }
    }

    private void openPass(long start) {
        pass = source.iterator();
        passStart = start;
        position = start;
        passes++;
    }

    private Example next() {
        if (!pass.hasNext()) {
            long length = position - passStart;
            lastCompleteStats = pass.stats();
            pass.close();
            if (length == 0) {
                throw new DataSourceException(path, "a whole pass yielded no usable example ("
                        + lastCompleteStats + ")");
            }
            passLength = length;
            openPass(position);
            if (!pass.hasNext()) {
                throw new DataSourceException(path, "a new pass yielded no example");
            }
        }
        position++;
        return pass.next();
    }

    @Override
    public String describe() {
        return source.describe();
    }

    @Override
    public String summary() {
        ReadStats stats = lastCompleteStats != ReadStats.EMPTY ? lastCompleteStats : pass == null ? ReadStats.EMPTY
                : pass.stats();
        String scope = lastCompleteStats != ReadStats.EMPTY ? "per pass (" + passLength + " examples)"
                : "in the first, unfinished pass";
        return "data: " + describe() + "; " + passes + " pass(es) opened; " + scope + ": " + stats
                + (stats.problems().isEmpty() ? "" : "; first problems: " + String.join(" | ", stats.problems()));
    }

    @Override
    public void close() {
        if (pass != null) {
            pass.close();
        }
    }
}
