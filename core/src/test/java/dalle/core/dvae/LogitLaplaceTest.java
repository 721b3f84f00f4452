package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class LogitLaplaceTest {

    @Test
    void unmappingAMappedImageGivesItBack() {
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] x = {0f, 1f, 0.5f, 0.25f, 0.999f, 0.001f, 0.7f};
            NDArray mapped = LogitLaplace.mapPixels(manager.create(x));
            assertEquals(0.1f, mapped.min().getFloat(), 1e-7f);
            assertEquals(0.9f, mapped.max().getFloat(), 1e-7f);
            assertArrayEquals(x, LogitLaplace.unmapPixels(mapped).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void unmappingClampsOutsideTheMargin() {
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] out = LogitLaplace.unmapPixels(manager.create(new float[] {0.01f, 0.99f})).toFloatArray();
            assertArrayEquals(new float[] {0f, 1f}, out);
        }
    }

    @Test
    void negativeLogLikelihoodEqualsTheDensityComputedDirectly() {
        double[] x = {0.15, 0.5, 0.83, 0.9};
        double[] mu = {0.3, -1.0, 2.0, 2.197};
        double[] lnB = {0.0, -0.5, 0.7, -3.0};
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] got = LogitLaplace.nll(manager.create(toFloat(x)), manager.create(toFloat(mu)),
                    manager.create(toFloat(lnB))).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                double b = Math.exp(lnB[i]);
                double logit = Math.log(x[i] / (1 - x[i]));
                double density = Math.exp(-Math.abs(logit - mu[i]) / b) / (2 * b * x[i] * (1 - x[i]));
                assertEquals(-Math.log(density), got[i], 1e-4, "element " + i);
            }
        }
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
