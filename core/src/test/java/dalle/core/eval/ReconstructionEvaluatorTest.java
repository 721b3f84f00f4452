package dalle.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.data.Example;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReconstructionEvaluatorTest {

    static RgbImage image(int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[3 * size * size];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.2f + 0.6f * (float) rng.nextDouble(); // room for ±0.2 of noise inside [0, 1]
        }
        return new RgbImage(size, size, v);
    }

    @Test
    void psnrOfIdenticalImagesIsInfiniteAndCountsAsTheCapInTheMean() {
        RgbImage a = image(16, 1);
        assertEquals(Double.POSITIVE_INFINITY, ReconstructionEvaluator.psnr(a, new RgbImage(16, 16, a.chw().clone())));

        Reconstruction r = ReconstructionEvaluator.summarise("test", 16,
                new double[] {Double.POSITIVE_INFINITY, 20.0}, new long[] {1, 1});
        assertEquals(1, r.exact());
        assertEquals((ReconstructionEvaluator.EXACT_PSNR_DB + 20.0) / 2, r.meanPsnrDb(), 1e-12);
        assertEquals(20.0, r.minPsnrDb());
        assertEquals(Double.POSITIVE_INFINITY, r.maxPsnrDb());
    }

    @Test
    void psnrOfAKnownNoiseLevelIsTheClosedForm() {
        RgbImage a = image(32, 2);
        for (double sigma : new double[] {0.01, 0.1, 0.2}) {
            // Given ±sigma on every value (alternating): MSE = sigma², so PSNR = -20 log10(sigma)
            float[] v = a.chw().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (i % 2 == 0 ? sigma : -sigma);
            }
            double expected = -20 * Math.log10(sigma);
            assertEquals(expected, ReconstructionEvaluator.psnr(a, new RgbImage(32, 32, v)), 1e-3, "sigma " + sigma);
        }
        // Gaussian noise of sigma 0.05: 26.02 dB up to sampling error
        SplittableRandom rng = new SplittableRandom(3);
        float[] v = a.chw().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] += (float) (0.05 * gaussian(rng));
        }
        assertEquals(-20 * Math.log10(0.05), ReconstructionEvaluator.psnr(a, new RgbImage(32, 32, v)), 0.1);
    }

    static double gaussian(SplittableRandom rng) {
        return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    @Test
    void perplexityOfAUniformHistogramIsKAndOfASingleCodeIsOne() {
        long[] uniform = new long[512];
        Arrays.fill(uniform, 7);
        assertEquals(512, ReconstructionEvaluator.perplexity(uniform), 1e-9);
        assertEquals(512, ReconstructionEvaluator.distinct(uniform));

        long[] single = new long[512];
        single[42] = 1000;
        assertEquals(1, ReconstructionEvaluator.perplexity(single), 1e-12);
        assertEquals(1, ReconstructionEvaluator.distinct(single));

        // Two codes in a 1:3 ratio: exp(H) with H = -(1/4 ln 1/4 + 3/4 ln 3/4)
        long[] skewed = new long[8];
        skewed[0] = 10;
        skewed[5] = 30;
        double h = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
        assertEquals(Math.exp(h), ReconstructionEvaluator.perplexity(skewed), 1e-12);
        assertEquals(2, ReconstructionEvaluator.distinct(skewed));
    }

    @Test
    void evaluatesARandomDvaeOnHeldOutImagesInBatches() {
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(m, new DvaeConfig(32, 4, 64, 8, 1, 8), 1);
            List<RgbImage> images = ShapesDataset.heldOut(0, 32).examples(0, 40).map(Example::image).toList();
            ReconstructionEvaluator evaluator = new ReconstructionEvaluator(dvae, m);
            int[] batches = {0};
            Pipeline.Progress progress = (stage, done, total) -> {
                assertEquals("reconstruct", stage);
                assertEquals(40, total);
                batches[0]++;
            };
            Reconstruction a = evaluator.evaluate(images, "held-out", progress);
            Reconstruction b = evaluator.evaluate(images, "held-out", Pipeline.Progress.NONE);

            assertEquals(2, batches[0], "40 images in batches of 32");
            assertEquals(a, b, "deterministic");
            assertEquals(40, a.images());
            assertEquals(40 * 16, a.cells());
            assertEquals(64, a.codebookSize());
            assertTrue(a.distinctCodes() >= 1 && a.distinctCodes() <= 64, "distinct " + a.distinctCodes());
            assertTrue(a.perplexity() >= 1 && a.perplexity() <= a.distinctCodes() + 1e-9,
                    "perplexity " + a.perplexity());
            assertTrue(Double.isFinite(a.meanPsnrDb()) && a.minPsnrDb() <= a.meanPsnrDb()
                    && a.meanPsnrDb() <= a.maxPsnrDb(), a.toString());

            RgbImage wrong = image(16, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> evaluator.evaluate(List.of(wrong), "x", Pipeline.Progress.NONE));
            assertTrue(e.getMessage().contains("16x16"), e.getMessage());
        }
    }
}
