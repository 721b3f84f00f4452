package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WarmupCosineTest {

    @Test
    void risesLinearlyToThePeakThenFallsToTheEndFactorAtTheLastStep() {
        WarmupCosine s = new WarmupCosine(1e-3f, 0.1, 0.1f);
        assertEquals(1e-5f, s.at(0, 1000), 1e-9f, "first of 100 warm-up steps");
        assertEquals(5e-4f, s.at(49, 1000), 1e-9f);
        assertEquals(1e-3f, s.at(99, 1000), 1e-9f, "peak at the end of the warm-up");
        assertEquals(1e-3f, s.at(100, 1000), 1e-9f, "cosine starts at the peak");
        assertEquals(0.55e-3f, s.at(100 + 899 / 2, 1000), 2e-6f, "half-way down the cosine");
        assertEquals(1e-4f, s.at(999, 1000), 1e-9f, "last step at endFactor · peak");
        for (int t = 101; t < 1000; t++) {
            assertTrue(s.at(t, 1000) <= s.at(t - 1, 1000), "monotone after the warm-up at " + t);
        }
    }

    @Test
    void scalesWithTheBudgetAndKeepsOneWarmupStepAtLeast() {
        WarmupCosine s = new WarmupCosine(2e-3f, 0.05, 0f);
        assertEquals(s.at(499, 10_000), s.at(49, 1_000), 1e-9f, "peak at the same fraction of the run");
        assertEquals(s.at(6_000, 10_000), s.at(600, 1_000), 1e-5f, "same fraction of the run, about the same rate");
        assertEquals(2e-3f, s.at(0, 3), 1e-9f, "a 3-step run warms up in one step");
        assertEquals(0f, s.at(2, 3), 1e-9f);
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(0f, 0.1, 0f));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1e-3f, 1.0, 0f));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1e-3f, 0.1, 1.5f));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1e-3f, 0.1, 0f).at(0, 0));
    }
}
