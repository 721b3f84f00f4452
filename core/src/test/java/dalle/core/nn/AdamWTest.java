package dalle.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @Test
    void firstStepMovesEachWeightByLearningRateAgainstTheGradientSign() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 2, 1, false);
            layer.weight().set(manager.create(new float[] {1f, -2f}, new Shape(1, 2)));
            layer.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, layer.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                // loss = sum(w^2): gradient 2w, so Adam's first step is -lr * sign(w)
                gc.backward(layer.weight().array().square().sum());
            }
            opt.step(0.1f);
            assertArrayEquals(new float[] {0.9f, -1.9f}, layer.weight().array().toFloatArray(), 1e-5f);
            assertEquals(0f, layer.weight().array().getGradient().abs().sum().getFloat(), "gradient zeroed after step");
        }
    }

    @Test
    void minimisesAQuadratic() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 3, 1, true);
            layer.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, layer.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
            NDArray x = manager.create(new float[] {1, 2, 3, -1, 0, 1}, new Shape(2, 3));
            NDArray y = manager.create(new float[] {4, -1}, new Shape(2, 1));
            float first = 0;
            float last = 0;
            for (int i = 0; i < 300; i++) {
                try (NDManager step = manager.newSubManager();
                     GradientCollector gc = manager.getEngine().newGradientCollector()) {
                    NDArray loss = layer.forward(x.duplicate()).sub(y).square().mean();
                    gc.backward(loss);
                    last = loss.getFloat();
                    if (i == 0) {
                        first = last;
                    }
                    loss.attach(step);
                }
                opt.step(0.05f);
            }
            org.junit.jupiter.api.Assertions.assertTrue(last < first * 1e-3, "loss " + first + " -> " + last);
        }
    }

    @Test
    void stepsLeaveNoArraysBehindOnTheParametersManager() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDManager model = manager.newSubManager();
            Linear layer = new Linear(model, new SplittableRandom(1), 3, 2, true);
            layer.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, layer.parameters(), 0.9f, 0.999f, 1e-8f, 0.1f);
            int before = model.getManagedArrays().size();
            for (int i = 0; i < 5; i++) {
                try (NDManager step = manager.newSubManager();
                     GradientCollector gc = manager.getEngine().newGradientCollector()) {
                    NDArray x = step.ones(new Shape(4, 3));
                    NDArray loss = layer.forward(x).square().sum();
                    gc.backward(loss);
                }
                opt.step(0.01f);
            }
            opt.zeroGradients();
            assertEquals(before, model.getManagedArrays().size(), "arrays left on the model's manager");
        }
    }

    @Test
    void zeroGradientsClearsNaNAndInfinity() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 2, 1, false);
            layer.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, layer.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                // d/dw of sum(w * [inf, nan]) = [inf, nan]
                gc.backward(layer.weight().array().mul(manager.create(new float[] {Float.POSITIVE_INFINITY, Float.NaN},
                        new Shape(1, 2))).sum());
            }
            opt.zeroGradients();
            assertArrayEquals(new float[] {0f, 0f}, layer.weight().array().getGradient().toFloatArray());
        }
    }
}
