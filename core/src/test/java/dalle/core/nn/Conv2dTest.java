package dalle.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The input gradient of a convolution whose output channels are not a multiple of oneDNN's block
 * (see {@link Conv2d}): the same backward pass must give the same, finite, correct gradient every time.
 */
class Conv2dTest {

    @Test
    void inputGradientOfAnEightChannelConvIsFiniteAndRepeatsBitForBit() {
        // Given the dVAE's 8 -> 8 3×3 bottleneck conv at batch 16, 64×64, and fixed inputs
        try (NDManager manager = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(manager, new SplittableRandom(1), 8, 8, 3);
            conv.setRequiresGradient(true);
            NDArray x = Module.normal(manager, new SplittableRandom(2), 1f, new Shape(16, 8, 64, 64));
            NDArray r = Module.normal(manager, new SplittableRandom(3), 1f, new Shape(16, 8, 64, 64));

            // When the same backward pass runs 20 times
            float[] first = null;
            for (int call = 0; call < 20; call++) {
                float[] dx = inputGradient(manager, conv, x, r);
                // Then every gradient is finite and equal to the first, bit for bit
                // (before the fix: a different gradient on almost every call, NaN on about one in seven)
                for (int i = 0; i < dx.length; i++) {
                    assertTrue(Float.isFinite(dx[i]), "call " + call + ": dL/dx[" + i + "] = " + dx[i]);
                }
                if (first == null) {
                    first = dx;
                } else {
                    assertArrayEquals(first, dx, "call " + call + " differs from the first");
                }
                conv.parameters().values().forEach(p -> Gradients.zero(p.array().getGradient()));
            }
        }
    }

    @Test
    void inputGradientMatchesADirectSumInDoublePrecision() {
        // Given a small 8 -> 6 3×3 conv (padded to 16 filters while training) and fixed inputs
        int b = 2, in = 8, out = 6, k = 3, h = 5, w = 5;
        try (NDManager manager = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(manager, new SplittableRandom(4), in, out, k);
            conv.setRequiresGradient(true);
            NDArray x = Module.normal(manager, new SplittableRandom(5), 1f, new Shape(b, in, h, w));
            NDArray r = Module.normal(manager, new SplittableRandom(6), 1f, new Shape(b, out, h, w));

            // When autograd computes d(Σ conv(x)·r)/dx
            float[] dx = inputGradient(manager, conv, x, r);

            // Then it equals Σ_o Σ_(ky,kx) r[o, y−ky+1, x−kx+1] · W[o, i, ky, kx], computed here in doubles
            float[] wt = conv.parameters().get("weight").array().toFloatArray();
            float[] rv = r.toFloatArray();
            double maxError = 0;
            for (int n = 0; n < b; n++) {
                for (int i = 0; i < in; i++) {
                    for (int y = 0; y < h; y++) {
                        for (int xx = 0; xx < w; xx++) {
                            double sum = 0;
                            for (int o = 0; o < out; o++) {
                                for (int ky = 0; ky < k; ky++) {
                                    for (int kx = 0; kx < k; kx++) {
                                        int oy = y - ky + k / 2;
                                        int ox = xx - kx + k / 2;
                                        if (oy >= 0 && oy < h && ox >= 0 && ox < w) {
                                            sum += (double) rv[((n * out + o) * h + oy) * w + ox]
                                                    * wt[((o * in + i) * k + ky) * k + kx];
                                        }
                                    }
                                }
                            }
                            maxError = Math.max(maxError, Math.abs(sum - dx[((n * in + i) * h + y) * w + xx]));
                        }
                    }
                }
            }
            assertTrue(maxError < 1e-4, "max |autograd − direct sum| = " + maxError);
        }
    }

    @Test
    void forwardWhileTrainingEqualsInferenceBitForBit() {
        // Given an 8 -> 8 conv (padded while training, plain in inference)
        try (NDManager manager = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(manager, new SplittableRandom(7), 8, 8, 3);
            NDArray x = Module.normal(manager, new SplittableRandom(8), 1f, new Shape(4, 8, 16, 16));
            // When it runs without gradients, then with them
            float[] inference = conv.forward(x).toFloatArray();
            conv.setRequiresGradient(true);
            float[] training;
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray y = conv.forward(x);
                assertEquals(new Shape(4, 8, 16, 16), y.getShape());
                training = y.toFloatArray();
            }
            // Then the outputs are the same values
            assertTrue(Arrays.equals(inference, training), "training-mode forward differs from inference");
        }
    }

    private static float[] inputGradient(NDManager manager, Conv2d conv, NDArray x0, NDArray r) {
        try (NDManager step = manager.newSubManager()) {
            NDArray x = x0.duplicate();
            x.attach(step);
            x.setRequiresGradient(true);
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                gc.backward(conv.forward(x).mul(r).sum());
            }
            return x.getGradient().toFloatArray();
        }
    }
}
