package dalle.core.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.core.nn.GradientSums;
import dalle.core.nn.ScalarsTest;
import org.junit.jupiter.api.Test;

/** A garbage collection between forward and backward must not change the reranker's gradients. */
class ClipGradientGcTest {

    @Test
    void contrastiveLossGradientsDoNotDependOnGarbageCollectionBeforeBackward() {
        assertArrayEquals(gradients(false), gradients(true));
    }

    private static float[] gradients(boolean collect) {
        ClipConfig config = new ClipConfig(20, 4, 0, 32, 32, 1, 2, 8, 16);
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer model = new ContrastiveScorer(manager, config, 1);
            model.setRequiresGradient(true);
            try (NDManager step = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray text = step.create(new long[] {3, 7, 0, 0, 5, 1, 2, 0, 9, 0, 0, 0}, new Shape(3, 4));
                NDArray loss = model.loss(text, seeded(step));
                if (collect) {
                    ScalarsTest.collectGarbageAndReuseMemory();
                }
                gc.backward(loss);
            }
            return GradientSums.of(model);
        }
    }

    private static NDArray seeded(NDManager m) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        float[] v = new float[3 * 3 * 32 * 32];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextDouble();
        }
        return m.create(v, new Shape(3, 3, 32, 32));
    }
}
