package dalle.training.cluster.powersgd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dalle.core.nn.Parameter;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientArraysTest {

    @Test
    void writtenGradientsReadBackExactlyEvenOnAFreshModelAndLeaveNoArraysBehind() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = new DallePrior(manager, new PriorConfig(16, 4, 0, 16, 4, 32, 2, 1, 3, 2), 1);
            prior.setRequiresGradient(true);   // never back-propagated: no gradient tensors yet
            Collection<Parameter> params = prior.parameters().values();
            List<float[]> values = new ArrayList<>();
            for (Parameter p : params) {
                float[] v = new float[(int) p.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) Math.sin(i + p.size());
                }
                values.add(v);
            }
            GradientArrays.write(params, values);
            int before = manager.getManagedArrays().size();
            for (int round = 0; round < 3; round++) {
                GradientArrays.write(params, values);
            }
            List<float[]> back = GradientArrays.read(params);
            for (int i = 0; i < values.size(); i++) {
                assertArrayEquals(values.get(i), back.get(i));
            }
            assertEquals(before, manager.getManagedArrays().size(), "arrays left on the model's manager");
        }
    }
}
