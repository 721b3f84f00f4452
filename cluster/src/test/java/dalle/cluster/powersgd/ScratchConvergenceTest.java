package dalle.cluster.powersgd;

import dalle.core.nn.Parameter;
import dalle.core.transformer.PriorConfig;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class ScratchConvergenceTest {
    @Test
    void scratch() {
        int steps = Integer.getInteger("steps", 30);
        int workers = Integer.getInteger("workers", 2);
        int mb = Integer.getInteger("mb", 2);
        float lr = Float.parseFloat(System.getProperty("lr", "1e-3"));
        PriorConfig c = PriorConfig.tiny(16, 0);
        SimulatedDataParallel.Settings s = new SimulatedDataParallel.Settings(c, workers, mb, steps, lr, 64, 1);
        PowerSgdComparison.compare(s, new int[] {1, 4}, PowerSgdConfig.QStart.valueOf(System.getProperty("q", "WARM_START")),
                EnumSet.of(Parameter.Kind.WEIGHT), System.out);
    }
}
