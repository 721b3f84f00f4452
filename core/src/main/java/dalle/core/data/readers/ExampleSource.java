package dalle.core.data.readers;

import dalle.core.data.Example;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A re-readable collection of captioned images on disk. Each {@link #iterator()} starts a fresh pass in a
 * deterministic order (the same files give the same examples in the same order). Bad records are skipped and
 * counted, never thrown: only a source that cannot be used at all throws {@link DataSourceException}.
 */
public interface ExampleSource extends Iterable<Example> {

    /** Starts a new pass. Close it if you stop before the end. */
    @Override
    ExampleIterator iterator();

    /** Counts of the most recently started pass (live while it runs); {@link ReadStats#EMPTY} before the first. */
    ReadStats stats();

    /** The format and where it reads from, for logs: {@code "webdataset: 3 shards under /data/laion"}. */
    String describe();

    /** A new pass as a sequential stream; closing the stream closes the pass's files. */
    default Stream<Example> stream() {
        ExampleIterator it = iterator();
        return StreamSupport.stream(
                        Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(it::close);
    }
}
