package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The gateway's latency-driven admission limit, on a clock the test moves. */
class AdmissionLimitTest {

    private long now = 1_000_000_000L;
    private final AdmissionLimit limit = new AdmissionLimit(8, 2.0, () -> now);

    /** Runs one generation of {@code candidates} taking {@code ms}, alone. */
    private void generation(int candidates, long ms, boolean completed) {
        AdmissionLimit.Permit p = limit.tryAcquire(candidates).orElseThrow();
        now += ms * 1_000_000L;
        p.release(completed);
    }

    private int admitted() {
        List<AdmissionLimit.Permit> held = new ArrayList<>();
        for (Optional<AdmissionLimit.Permit> p = limit.tryAcquire(1); p.isPresent(); p = limit.tryAcquire(1)) {
            held.add(p.get());
        }
        held.forEach(p -> p.release(false));
        return held.size();
    }

    @Test
    void admitsUpToConcurrencyWhileGenerationsAreFastAndRefusesTheRest() {
        for (int i = 0; i < 20; i++) {
            generation(8, 800, true); // 100 ms per candidate
        }
        assertEquals(8, limit.limit());
        assertEquals(8, admitted(), "the ninth is refused");
        assertEquals(0, limit.inFlight(), "every permit was given back");
    }

    @Test
    void slowGenerationsShrinkTheLimitToOneAndFastOnesGrowItBack() {
        generation(8, 800, true); // the unloaded latency: 100 ms per candidate
        for (int i = 0; i < 50; i++) {
            generation(8, 2400, true); // 3x: slower than the tolerance
        }
        assertEquals(1, limit.limit(), "shrunk to one, never to zero");
        assertEquals(1, admitted());
        for (int i = 0; i < 100; i++) {
            generation(2, 200, true);
        }
        assertEquals(8, limit.limit(), "grown back to the concurrency");
    }

    @Test
    void latencyIsComparedPerCandidateAndFailuresDoNotCount() {
        generation(1, 100, true);
        generation(16, 1600, true); // 100 ms per candidate: as fast as the unloaded one
        assertEquals(8, limit.limit());
        for (int i = 0; i < 20; i++) {
            generation(1, 10_000, false); // failed or cancelled: says nothing about speed
        }
        assertEquals(8, limit.limit());
        generation(1, 1_000, true); // 10x: one slow generation shrinks it once
        assertEquals(6, limit.limit());
    }

    @Test
    void oneBurstOfSlowGenerationsShrinksTheLimitOnce() {
        generation(1, 100, true);
        List<AdmissionLimit.Permit> burst = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            burst.add(limit.tryAcquire(1).orElseThrow());
        }
        now += 1_000_000_000L; // all eight took 1 s, 10x the unloaded latency, and end together
        burst.forEach(p -> p.release(true));
        assertEquals(6, limit.limit(), "8 x 0.8, once");
        assertTrue(limit.tryAcquire(1).isPresent());
    }
}
