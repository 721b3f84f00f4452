package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptimizerSettingsTest {

    @Test
    void theEmaDecayIsCappedSoThatTheInitialWeightsFadeFromTheAverage() {
        OptimizerSettings dvae = OptimizerSettings.dvaePaper();
        assertEquals(0.999f, dvae.forBudget(3_000_000).emaDecay());
        assertEquals(0.999f, dvae.forBudget(10_000).emaDecay(), 1e-7f);
        assertEquals(0.995f, dvae.forBudget(2_000).emaDecay(), 1e-7f);
        assertEquals(0f, dvae.forBudget(6).emaDecay(), "too short a run for an average");
        assertEquals(0f, OptimizerSettings.clipPaper().forBudget(100).emaDecay(), "off stays off");
        assertEquals(dvae.weightDecay(), dvae.forBudget(2_000).weightDecay());
    }

    @Test
    void rejectsSettingsAdamWCannotUse() {
        assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings(1f, 0.9f, 1e-8f, 0f, 0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings(0.9f, 0.9f, 0f, 0f, 0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings(0.9f, 0.9f, 1e-8f, 0f, -1f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings(0.9f, 0.9f, 1e-8f, 0f, 0f, 1f));
    }
}
