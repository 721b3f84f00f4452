package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReconstructionTest {

    private static final float[] PIXELS = {0f, 0.25f, 0.5f, 1f};

    /** Decoder statistics (1, 6, 2, 2) whose μ decodes to {@code means} (one channel repeated) and whose ln b is {@code lnB}. */
    private static NDArray stats(NDManager manager, float[] means, float lnB) {
        float[] v = new float[6 * 4];
        for (int c = 0; c < 6; c++) {
            for (int p = 0; p < 4; p++) {
                double y = (1 - 2 * LogitLaplace.EPSILON) * means[p] + LogitLaplace.EPSILON;
                v[c * 4 + p] = c < 3 ? (float) Math.log(y / (1 - y)) : lnB;
            }
        }
        return manager.create(v, new Shape(1, 6, 2, 2));
    }

    private static NDArray image(NDManager manager, float[] pixels) {
        float[] v = new float[12];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(pixels, 0, v, c * 4, 4);
        }
        return manager.create(v, new Shape(1, 3, 2, 2));
    }

    @Test
    void gaussianIsTheNormalisedSquaredErrorOfTheDecodedMeanWithSigmaOneTenth() {
        try (NDManager manager = NDManager.newBaseManager()) {
            double normaliser = Math.log(0.1) + 0.5 * Math.log(2 * Math.PI);
            // a perfect mean gives only the normaliser, whatever the ln b channels say
            float[] exact = Reconstruction.GAUSSIAN.nll(image(manager, PIXELS), stats(manager, PIXELS, 3f)).toFloatArray();
            for (float v : exact) {
                assertEquals(normaliser, v, 1e-4);
            }
            // off by 0.05 everywhere: + ½ (0.05 / 0.1)² = 0.125 nats
            float[] shifted = {0.05f, 0.3f, 0.55f, 0.95f};
            float[] off = Reconstruction.GAUSSIAN.nll(image(manager, PIXELS), stats(manager, shifted, 3f)).toFloatArray();
            for (float v : off) {
                assertEquals(normaliser + 0.125, v, 1e-3);
            }
        }
    }

    @Test
    void logitLaplaceIsThePapersLikelihood() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = image(manager, PIXELS);
            NDArray s = stats(manager, new float[] {0.1f, 0.2f, 0.6f, 0.9f}, -1f);
            NDArray expected = LogitLaplace.nll(LogitLaplace.mapPixels(x), s.get(":, 0:3"), s.get(":, 3:6"));
            assertArrayEquals(expected.toFloatArray(), Reconstruction.LOGIT_LAPLACE.nll(x, s).toFloatArray(), 0f);
        }
    }

    @Test
    void labelsRoundTripAndAnUnknownOneIsNamed() {
        for (Reconstruction r : Reconstruction.values()) {
            assertEquals(r, Reconstruction.parse(r.label()));
        }
        assertEquals("logit-laplace", Reconstruction.LOGIT_LAPLACE.label());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reconstruction.parse("mse"));
        assertTrue(e.getMessage().contains("'mse'") && e.getMessage().contains("gaussian"), e.getMessage());
    }

    @Test
    void theLossUsesTheChosenTermAndTheShapesRecipeScalesTheEncoderLogits() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DvaeConfig config = new DvaeConfig(16, 2, 16, 8, 1, 8);
            Dvae plain = new Dvae(manager, config, 3);
            Dvae scaled = new Dvae(manager, config, 3);
            scaled.scaleEncoderLogits(DvaeRecipe.shapes().encoderLogitGain());
            NDArray images = manager.randomUniform(0f, 1f, new Shape(2, 3, 16, 16));
            float[] a = plain.logits(images).toFloatArray();
            float[] b = scaled.logits(images).toFloatArray();
            float[] biasA = plain.parameters().get("encoder.output.bias").array().toFloatArray();
            // (B, K, G, G) logits: the weight part is ×8, the bias unchanged
            for (int i = 0; i < a.length; i++) {
                float bias = biasA[(i / 4) % 16];
                assertEquals(8f * (a[i] - bias) + bias, b[i], 1e-3f * Math.max(1f, Math.abs(b[i])));
            }
            DvaeLoss laplace = plain.loss(images, 1f, 0f, 0f, Reconstruction.LOGIT_LAPLACE, new SplittableRandom(1));
            DvaeLoss gauss = plain.loss(images, 1f, 0f, 0f, Reconstruction.GAUSSIAN, new SplittableRandom(1));
            assertTrue(Math.abs(laplace.reconstruction().getFloat() - gauss.reconstruction().getFloat()) > 1e-3f);
            // the same Gumbel draws: the KL does not depend on the reconstruction term
            assertEquals(laplace.kl().getFloat(), gauss.kl().getFloat(), 0f);
        }
    }

    @Test
    void recipesByNameAndAnUnknownRecipeIsNamed() {
        DvaeRecipe shapes = DvaeRecipe.named("shapes");
        assertEquals(Reconstruction.GAUSSIAN, shapes.reconstruction());
        assertEquals(0f, shapes.schedules().betaMax());
        assertEquals(1e-3f, shapes.schedules().lr(0, 100));
        assertEquals(Reconstruction.LOGIT_LAPLACE, DvaeRecipe.named("paper").reconstruction());
        assertEquals(DvaeSchedules.tiny(), DvaeRecipe.paper().schedules());
        assertEquals(2e-4f, DvaeRecipe.paper().withPeakLearningRate(2e-4f).schedules().lr(0, 100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DvaeRecipe.named("fast"));
        assertTrue(e.getMessage().contains("'fast'") && e.getMessage().contains("shapes"), e.getMessage());
    }
}
