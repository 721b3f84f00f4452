package dalle.core.data.readers;

import dalle.core.data.Example;
import java.util.Iterator;

/**
 * One pass over an {@link ExampleSource}. It may hold an open file (a tar shard, the annotations JSON): close it when
 * stopping early; it closes itself when exhausted. Not thread-safe; {@link #stats()} may be read from any thread.
 */
public interface ExampleIterator extends Iterator<Example>, AutoCloseable {

    /** Counts of this pass so far (a snapshot; live while the pass runs). */
    ReadStats stats();

    /** Releases any open file; further {@link #hasNext()} calls return false. Idempotent. */
    @Override
    void close();
}
