package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.core.nn.Linear;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    /** A layer whose weight gradient is (3, 4) (norm 5) and bias gradient (12) (norm 12): global norm 13. */
    private static Linear layerWithGradient(NDManager manager) {
        Linear layer = new Linear(manager, new SplittableRandom(1), 2, 1, true);
        layer.setRequiresGradient(true);
        try (NDManager step = manager.newSubManager();
             GradientCollector gc = manager.getEngine().newGradientCollector()) {
            // loss = w·(3, 4) + 12·b: gradients are exactly the coefficients
            var x = step.create(new float[] {3f, 4f}, new Shape(1, 2));
            var out = layer.forward(x);
            var extra = layer.parameters().get("bias").array().mul(11f).sum();
            gc.backward(out.sum().add(extra));
        }
        return layer;
    }

    @Test
    void scalesTheGradientDownToTheLimitAndReportsTheNormBefore() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = layerWithGradient(manager);
            double norm = GradientClipping.clip(manager, layer.parameters().values(), 6.5f);
            assertEquals(13.0, norm, 1e-5);
            assertArrayEquals(new float[] {1.5f, 2f}, layer.parameters().get("weight").array().getGradient().toFloatArray(),
                    1e-6f);
            assertArrayEquals(new float[] {6f}, layer.parameters().get("bias").array().getGradient().toFloatArray(),
                    1e-6f);
        }
    }

    @Test
    void leavesGradientsBelowTheLimitOrWithClippingOffAlone() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = layerWithGradient(manager);
            assertEquals(13.0, GradientClipping.clip(manager, layer.parameters().values(), 20f), 1e-5);
            assertEquals(13.0, GradientClipping.clip(manager, layer.parameters().values(), 0f), 1e-5);
            assertArrayEquals(new float[] {3f, 4f}, layer.parameters().get("weight").array().getGradient().toFloatArray(),
                    1e-6f);
        }
    }

    @Test
    void zeroClearsInfiniteAndNanGradientsSoTheNextBackwardStartsClean() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 3, 1, false);
            layer.weight().set(manager.create(new float[] {0f, -1f, 2f}, new Shape(1, 3)));
            layer.setRequiresGradient(true);
            var w = layer.weight().array();
            var p = layer.weight();
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                gc.backward(w.log().sum()); // d/dw ln w = 1/w: Inf at 0; ln(−1) is NaN
            }
            assertEquals(Double.POSITIVE_INFINITY, GradientClipping.clip(manager, java.util.List.of(p), 4f));
            dalle.core.nn.Gradients.zero(java.util.List.of(p));
            assertArrayEquals(new float[] {0f, 0f, 0f}, w.getGradient().toFloatArray());
            try (NDManager step = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                gc.backward(w.mul(step.create(new float[] {1f, 2f, 3f}, new Shape(1, 3))).sum());
            }
            assertArrayEquals(new float[] {1f, 2f, 3f}, w.getGradient().toFloatArray());
        }
    }
}
