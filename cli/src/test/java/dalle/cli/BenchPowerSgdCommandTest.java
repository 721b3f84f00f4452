package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchPowerSgdCommandTest {

    @Test
    void benchPowersgdPrintsExactAndEachRankWithBytesSent() {
        CliRun r = CliRun.dalle("bench", "powersgd", "--steps", "2", "--ranks", "1", "--workers", "2",
                "--micro-batch", "1", "--held-out", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("exact"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("rank 1") && l.contains("x")), r.out());
    }

    @Test
    void benchPowersgdRejectsAnUnknownQ() {
        CliRun r = CliRun.dalle("bench", "powersgd", "--q", "lukewarm");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("--q must be 'warm' or 'fixed'"), r.err());
    }

    @Test
    void benchSamplerStillNeedsAKnownTarget() {
        CliRun r = CliRun.dalle("bench", "nothing");
        assertNotEquals(0, r.exit());
    }
}
