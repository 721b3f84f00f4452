package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DvaeSchedulesTest {

    private final DvaeSchedules paper = DvaeSchedules.paper();

    @Test
    void paperScheduleHitsThePapersValuesAtThePapersUpdateCounts() {
        long total = 3_000_000;
        assertEquals(0f, paper.beta(0, total));
        assertEquals(3.3f, paper.beta(2_500, total), 1e-4f);
        assertEquals(6.6f, paper.beta(5_000, total), 1e-6f);
        assertEquals(6.6f, paper.beta(2_999_999, total), 1e-6f);

        assertEquals(1f, paper.tau(0, total));
        assertEquals((1f + 1f / 16) / 2, paper.tau(75_000, total), 1e-5f);
        assertEquals(1f / 16, paper.tau(150_000, total), 1e-7f);

        assertEquals(1e-4f, paper.lr(0, total));
        assertEquals(1.25e-6f, paper.lr(1_200_000, total), 1e-12f);
        assertEquals(1.25e-6f, paper.lr(2_999_999, total), 1e-12f);
    }

    @Test
    void schedulesScaleToTheStepBudgetAndAreMonotone() {
        long total = 1000;
        DvaeSchedules tiny = DvaeSchedules.tiny();
        assertEquals(6.6f, tiny.beta(50, total), 1e-6f);
        assertEquals(1f / 16, tiny.tau(50, total), 1e-7f);
        assertEquals(1.25e-6f, tiny.lr(400, total), 1e-12f);
        for (long s = 1; s < total; s++) {
            assertTrue(tiny.beta(s, total) >= tiny.beta(s - 1, total), "beta at " + s);
            assertTrue(tiny.tau(s, total) <= tiny.tau(s - 1, total), "tau at " + s);
            assertTrue(tiny.lr(s, total) <= tiny.lr(s - 1, total), "lr at " + s);
        }
    }

    @Test
    void aPhaseShorterThanOneStepJumpsToItsEndValue() {
        assertEquals(0f, paper.beta(0, 100));
        assertEquals(6.6f, paper.beta(1, 100), 1e-6f);
    }

    @Test
    void refusesBadFractionsAndSteps() {
        assertThrows(IllegalArgumentException.class,
                () -> new DvaeSchedules(6.6f, 0, 1f, 0.0625f, 0.05, 1e-4f, 1e-6f, 0.4));
        assertThrows(IllegalArgumentException.class, () -> paper.lr(5, 0));
        assertThrows(IllegalArgumentException.class, () -> paper.lr(-1, 10));
    }
}
