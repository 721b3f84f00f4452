package dalle.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * A garbage collection between forward and backward must not change gradients: DJL's
 * {@code mul(Number)} fails this (the constant autograd saved is freed with its Java buffer).
 */
public class ScalarsTest {

    @Test
    void gradientThroughAConstantFactorSurvivesAGarbageCollectionBeforeBackward() {
        // d(3w)/dw = 3 and d(w/4)/dw = 1/4, both needing the saved constant
        assertGradient(Scalars::mul, 3f, 3f);
        assertGradient(Scalars::div, 4f, 0.25f);
    }

    private static void assertGradient(BiFunction<NDArray, Float, NDArray> op, float constant, float expected) {
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 3; trial++) {
                NDArray w = manager.ones(new Shape(4));
                w.setRequiresGradient(true);
                try (NDManager step = manager.newSubManager();
                     GradientCollector gc = manager.getEngine().newGradientCollector()) {
                    NDArray y = op.apply(w, constant);
                    collectGarbageAndReuseMemory();
                    gc.backward(y.sum());
                }
                assertArrayEquals(new float[] {expected, expected, expected, expected},
                        w.getGradient().toFloatArray(), "trial " + trial);
            }
        }
    }

    /** Runs the collector, lets the cleaner free direct buffers, then fills fresh ones with NaN. */
    public static void collectGarbageAndReuseMemory() {
        System.gc();
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ByteBuffer> junk = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4);
            b.putFloat(0, Float.NaN);
            junk.add(b);
        }
    }
}
