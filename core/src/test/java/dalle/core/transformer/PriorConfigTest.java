package dalle.core.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class PriorConfigTest {

    @Test
    void paperPresetHasAboutTwelveBillionParameters() {
        PriorConfig paper = PriorConfig.paper();
        long count = paper.parameterCount();
        assertTrue(count > 11.5e9 && count < 12.5e9, "paper parameter count " + count);
        assertEquals(3968 / 62, paper.headWidth());
        assertEquals(256 + 1024 - 1, paper.inputLength());
    }

    @Test
    void tinyAnalyticCountEqualsInstantiatedCount() {
        PriorConfig tiny = PriorConfig.tiny(1000, 0);
        try (NDManager manager = NDManager.newBaseManager()) {
            assertEquals(tiny.parameterCount(), new DallePrior(manager, tiny, 1).parameterCount());
        }
    }

    @Test
    void invalidSizesAreRefusedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PriorConfig(100, 8, 0, 16, 4, 250, 4, 2, 3, 4));
        assertEquals("width 250 is not divisible by heads 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PriorConfig(100, 8, 100, 16, 4, 32, 4, 2, 3, 4));
        assertTrue(e.getMessage().contains("padTokenId 100"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PriorConfig(100, 8, 0, 16, 4, 32, 4, 2, 4, 4));
        assertTrue(e.getMessage().contains("convKernel 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PriorConfig(100, 1, 0, 16, 4, 32, 4, 2, 3, 4));
        assertTrue(e.getMessage().contains("textLength 1"), e.getMessage());
    }
}
