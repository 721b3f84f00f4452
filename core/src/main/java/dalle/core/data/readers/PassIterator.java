package dalle.core.data.readers;

import dalle.core.data.Example;
import java.util.NoSuchElementException;

/**
 * The shared shape of a pass: subclasses produce the next good example (skipping and counting bad records
 * themselves) or report the end; this class does the look-ahead, the counting of yielded examples and closing.
 */
abstract class PassIterator implements ExampleIterator {

    protected final StatsCounter stats;
    private Example next;
    private boolean finished;

    PassIterator(StatsCounter stats) {
        this.stats = stats;
    }

    /**
     * The next good example, or {@code null} when the pass is over (the Guava {@code AbstractIterator} contract,
     * kept private to this package).
     */
    protected abstract Example computeNext();

    /** Releases the subclass's open files. Called once, at the end or on {@link #close()}. */
    protected abstract void release();

    @Override
    public final boolean hasNext() {
        if (next == null && !finished) {
            next = computeNext();
            if (next == null) {
                close();
            }
        }
        return next != null;
    }

    @Override
    public final Example next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the pass is over");
        }
        Example e = next;
        next = null;
        stats.read();
        return e;
    }

    @Override
    public final ReadStats stats() {
        return stats.snapshot();
    }

    @Override
    public final void close() {
        next = null;
        if (!finished) {
            finished = true;
            release();
        }
    }
}
