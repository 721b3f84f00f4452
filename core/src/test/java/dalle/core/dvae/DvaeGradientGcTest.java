package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.nn.GradientSums;
import dalle.core.nn.ScalarsTest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A garbage collection between forward and backward must not change the dVAE's gradients. */
class DvaeGradientGcTest {

    @Test
    void dvaeLossGradientsDoNotDependOnGarbageCollectionBeforeBackward() {
        assertArrayEquals(gradients(false), gradients(true));
    }

    private static float[] gradients(boolean collect) {
        try (NDManager manager = NDManager.newBaseManager()) {
            Dvae model = new Dvae(manager, new DvaeConfig(32, 4, 16, 8, 1, 8), 1);
            model.setRequiresGradient(true);
            try (NDManager step = manager.newSubManager();
                 GradientCollector gc = manager.getEngine().newGradientCollector()) {
                DvaeLoss loss = model.loss(Squares.batch(step, 2, 32, 4), 0.5f, 2f, new SplittableRandom(3));
                if (collect) {
                    ScalarsTest.collectGarbageAndReuseMemory();
                }
                gc.backward(loss.total());
            }
            return GradientSums.of(model);
        }
    }
}
