package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Linear;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightEmaTest {

    @Test
    void averagesFollowTheDecayAndCopyIntoAnotherInstance() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 2, 1, false);
            layer.weight().set(manager.create(new float[] {1f, -2f}, new Shape(1, 2)));
            WeightEma ema = new WeightEma(manager, layer, 0.75f);

            layer.weight().array().set(new float[] {5f, 2f});
            ema.update();
            // 0.75·(1, −2) + 0.25·(5, 2) = (2, −1)
            assertArrayEquals(new float[] {2f, -1f}, ema.averages().get("weight").toFloatArray(), 1e-6f);
            ema.update();
            // 0.75·(2, −1) + 0.25·(5, 2) = (2.75, −0.25)
            assertArrayEquals(new float[] {2.75f, -0.25f}, ema.averages().get("weight").toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {5f, 2f}, layer.weight().array().toFloatArray(), "live weights untouched");

            Linear copy = new Linear(manager, new SplittableRandom(2), 2, 1, false);
            ema.copyInto(copy);
            assertArrayEquals(new float[] {2.75f, -0.25f}, copy.weight().array().toFloatArray(), 1e-6f);
        }
    }

    @Test
    void refusesADecayOutsideTheUnitInterval() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 2, 1, false);
            assertThrows(IllegalArgumentException.class, () -> new WeightEma(manager, layer, 1f));
        }
    }
}
