package dalle.core.data.readers;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Mutable counts of one pass; written by the reading thread, snapshotted from any thread. */
final class StatsCounter {

    private static final Logger LOG = LoggerFactory.getLogger(StatsCounter.class);

    private final AtomicLong read = new AtomicLong();
    private final AtomicLong[] skipped = new AtomicLong[BadRecord.Reason.values().length];
    private final AtomicLong sourceErrors = new AtomicLong();
    private final List<String> problems = new ArrayList<>();

    StatsCounter() {
        for (int i = 0; i < skipped.length; i++) {
            skipped[i] = new AtomicLong();
        }
    }

    void read() {
        read.incrementAndGet();
    }

    void skip(String where, BadRecord bad) {
        skipped[bad.reason().ordinal()].incrementAndGet();
        note(where + ": " + bad.getMessage());
    }

    void sourceError(String where, String why) {
        sourceErrors.incrementAndGet();
        note(where + ": " + why);
    }

    private void note(String problem) {
        LOG.debug("skipped {}", problem);
        synchronized (problems) {
            if (problems.size() < ReadStats.MAX_PROBLEMS) {
                problems.add(problem);
            }
        }
    }

    ReadStats snapshot() {
        List<String> copy;
        synchronized (problems) {
            copy = List.copyOf(problems);
        }
        return new ReadStats(
                read.get(),
                count(BadRecord.Reason.CORRUPT_IMAGE),
                count(BadRecord.Reason.MISSING_CAPTION),
                count(BadRecord.Reason.OVERSIZED_CAPTION),
                count(BadRecord.Reason.MISSING_IMAGE),
                count(BadRecord.Reason.OTHER),
                sourceErrors.get(),
                copy);
    }

    private long count(BadRecord.Reason reason) {
        return skipped[reason.ordinal()].get();
    }
}
