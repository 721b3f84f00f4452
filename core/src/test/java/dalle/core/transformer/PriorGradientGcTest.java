package dalle.core.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.core.nn.GradientSums;
import dalle.core.nn.ScalarsTest;
import org.junit.jupiter.api.Test;

/** A garbage collection between forward and backward must not change the prior's gradients. */
class PriorGradientGcTest {

    @Test
    void priorLossGradientsDoNotDependOnGarbageCollectionBeforeBackward() {
        assertArrayEquals(gradients(false), gradients(true));
    }

    private static float[] gradients(boolean collect) {
        PriorConfig config = new PriorConfig(20, 4, 0, 16, 4, 32, 2, 2, 3, 2);
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior model = new DallePrior(manager, config, 1);
            model.setRequiresGradient(true);
            try (NDManager step = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray text = step.create(new long[] {3, 7, 0, 0, 5, 1, 2, 0}, new Shape(2, 4));
                long[] img = new long[2 * 16];
                for (int i = 0; i < img.length; i++) {
                    img[i] = (i * 7) % 16;
                }
                PriorLoss loss = model.loss(text, step.create(img, new Shape(2, 16)));
                if (collect) {
                    ScalarsTest.collectGarbageAndReuseMemory();
                }
                gc.backward(loss.total());
            }
            return GradientSums.of(model);
        }
    }
}
