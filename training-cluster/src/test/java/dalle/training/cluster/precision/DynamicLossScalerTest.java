package dalle.training.cluster.precision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DynamicLossScalerTest {

    @Test
    void standardStartsAt2To16AndDoublesAfter2000CleanSteps() {
        DynamicLossScaler s = DynamicLossScaler.standard();
        assertEquals(65536f, s.scale());
        for (int i = 0; i < 1999; i++) {
            assertTrue(s.update(true));
        }
        assertEquals(65536f, s.scale());
        assertTrue(s.update(true));
        assertEquals(131072f, s.scale());
    }

    @Test
    void overflowHalvesTheScaleSkipsTheStepAndRestartsTheCleanCount() {
        DynamicLossScaler s = new DynamicLossScaler(1024f, 2f, 0.5f, 3);
        s.update(true);
        s.update(true);
        assertFalse(s.update(false));
        assertEquals(512f, s.scale());
        assertEquals(1, s.skippedSteps());
        s.update(true);
        s.update(true);
        assertEquals(512f, s.scale(), "the streak restarted after the overflow");
        s.update(true);
        assertEquals(1024f, s.scale());
    }

    @Test
    void rejectsSettingsThatCannotWork() {
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler(0f, 2f, 0.5f, 10));
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler(1f, 2f, 1f, 10));
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler(1f, 0.5f, 0.5f, 10));
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler(1f, 2f, 0.5f, 0));
    }
}
