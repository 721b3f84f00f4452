package dalle.services.gateway;

import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Requests;
import dalle.v1.GenerateRequest;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * How many generations the gateway admits at once: an adaptive limit driven by latency (AIMD), between 1 and
 * {@code dalle.gateway.concurrency}. A generation's latency is taken per candidate (latency / candidates, so that
 * small and large requests compare); the fastest of the recent ones (a window of {@link #WINDOW_NANOS}) stands for
 * the unloaded latency. A generation that took more than {@code tolerance} × that shrinks the limit by a fifth (at
 * most once per unloaded latency, so one slow burst counts once); a faster one raises it by 1/limit (about one per
 * round of generations). A request beyond the limit is refused at once (RESOURCE_EXHAUSTED, HTTP 429) instead of
 * waiting: under overload the stages stay busy while the admitted requests keep close to the unloaded latency.
 *
 * <p>Measured before this limit ({@code dalle bench overload}, models/tiny, 8 candidates, 2 busy cores): at twice
 * the sustainable rate, 8 running plus 8 queued generations gave an admitted p99 of 6.7× the unloaded p99.
 */
public final class AdmissionLimit {

    /** How long the fastest latency seen stands for the unloaded latency before a newer window replaces it. */
    static final long WINDOW_NANOS = 5L * 60 * 1_000_000_000L;

    private final int max;
    private final double tolerance;
    private final LongSupplier clock;
    private double limit;
    private int inFlight;
    private double fastest = Double.NaN; // per candidate, in the current window
    private double previousFastest = Double.NaN;
    private long windowStart;
    private long lastDecrease;

    /**
     * @param max the most generations at once ({@code dalle.gateway.concurrency})
     * @param tolerance how many times the unloaded latency a generation may take before the limit shrinks
     */
    public AdmissionLimit(int max, double tolerance) {
        this(max, tolerance, System::nanoTime);
    }

    AdmissionLimit(int max, double tolerance, LongSupplier clock) {
        if (max < 1) {
            throw new IllegalArgumentException("concurrency " + max + " is below 1");
        }
        if (!(tolerance > 1)) {
            throw new IllegalArgumentException("latency tolerance " + tolerance + " is not above 1");
        }
        this.max = max;
        this.tolerance = tolerance;
        this.clock = clock;
        this.limit = max;
        this.windowStart = clock.getAsLong();
        this.lastDecrease = windowStart - Long.MAX_VALUE / 2;
    }

    /** A permit to run one generation of {@code candidates}; empty when the limit is reached (refuse it). */
    public synchronized Optional<Permit> tryAcquire(int candidates) {
        if (inFlight >= Math.max(1, (int) limit)) {
            return Optional.empty();
        }
        inFlight++;
        return Optional.of(new Permit(Math.max(1, candidates), clock.getAsLong()));
    }

    /** The candidates a request asks for (its default when unset; 1 when invalid, as it fails at once anyway). */
    public static int candidates(GenerateRequest r) {
        try {
            return Requests.candidates("candidates", r.hasCandidates(), r.getCandidates());
        } catch (FieldException invalid) {
            return 1;
        }
    }

    /** The current limit (for metrics and tests). */
    public synchronized int limit() {
        return Math.max(1, (int) limit);
    }

    /** Generations admitted and not yet released. */
    public synchronized int inFlight() {
        return inFlight;
    }

    private synchronized void release(Permit p, boolean completed) {
        inFlight--;
        if (!completed) {
            return; // a failure or a cancellation says nothing about how long a generation takes
        }
        long now = clock.getAsLong();
        double perCandidate = (double) (now - p.start) / p.candidates;
        if (now - windowStart > WINDOW_NANOS) {
            previousFastest = fastest;
            fastest = Double.NaN;
            windowStart = now;
        }
        if (Double.isNaN(fastest) || perCandidate < fastest) {
            fastest = perCandidate;
        }
        double unloaded = Double.isNaN(previousFastest) ? fastest : Math.min(fastest, previousFastest);
        if (perCandidate > tolerance * unloaded) {
            if (now - lastDecrease > unloaded * p.candidates) {
                limit = Math.max(1, limit * 0.8);
                lastDecrease = now;
            }
        } else {
            limit = Math.min(max, limit + 1 / limit);
        }
    }

    /** One admitted generation; release it exactly once when it ends. */
    public final class Permit {
        private final int candidates;
        private final long start;
        private boolean released;

        private Permit(int candidates, long start) {
            this.candidates = candidates;
            this.start = start;
        }

        /**
         * Gives the slot back.
         *
         * @param completed whether the generation succeeded (only then its latency counts)
         */
        public void release(boolean completed) {
            synchronized (AdmissionLimit.this) {
                if (released) {
                    return;
                }
                released = true;
                AdmissionLimit.this.release(this, completed);
            }
        }
    }
}
