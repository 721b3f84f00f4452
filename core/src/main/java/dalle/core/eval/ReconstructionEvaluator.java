package dalle.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.dvae.Dvae;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.util.List;
import java.util.Objects;

/**
 * The dVAE's reconstruction quality: PSNR of {@code decode(encode(x))} against {@code x}, and how
 * much of the codebook the encoder uses (perplexity of the code histogram, distinct codes).
 *
 * <p>A low perplexity against K means a collapsed codebook: the prior then has few tokens to
 * choose from and fine detail is lost whatever it samples.
 */
public final class ReconstructionEvaluator {

    /** Images encoded and decoded per forward pass. */
    public static final int BATCH = 32;

    /**
     * What an exact reconstruction (zero error, infinite PSNR) counts as in a mean: the PSNR of an
     * RMS error of 1e-5, far below 8-bit quantisation (≈ 59 dB), so one perfect image cannot make
     * the mean infinite.
     */
    public static final double EXACT_PSNR_DB = 100.0;

    private final Dvae dvae;
    private final NDManager manager;

    /** @param manager parent of the per-batch sub-managers (e.g. the bundle's) */
    public ReconstructionEvaluator(Dvae dvae, NDManager manager) {
        this.dvae = Objects.requireNonNull(dvae, "dvae");
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    /**
     * Encodes and decodes {@code images} (all at the dVAE's resolution) in batches of {@link #BATCH}.
     *
     * @param source names the images in the report
     * @param progress told {@code ("reconstruct", done, total)} after each batch
     */
    public Reconstruction evaluate(List<RgbImage> images, String source, Pipeline.Progress progress) {
        int size = dvae.config().imageSize();
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to reconstruct");
        }
        for (int i = 0; i < images.size(); i++) {
            RgbImage im = images.get(i);
            if (im.width() != size || im.height() != size) {
                throw new IllegalArgumentException("image " + i + " is " + im.width() + "x" + im.height()
                        + ", the dVAE takes " + size + "x" + size);
            }
        }
        long[] histogram = new long[dvae.config().codebookSize()];
        double[] psnr = new double[images.size()];
        for (int from = 0; from < images.size(); from += BATCH) {
            int to = Math.min(images.size(), from + BATCH);
            List<RgbImage> batch = images.subList(from, to);
            try (NDManager step = manager.newSubManager()) {
                NDArray codes = dvae.encode(RgbImage.stack(step, batch)); // (B, G·G)
                for (long c : codes.toLongArray()) {
                    histogram[(int) c]++;
                }
                List<RgbImage> back = RgbImage.unstack(dvae.decode(codes));
                for (int i = 0; i < batch.size(); i++) {
                    psnr[from + i] = psnr(batch.get(i), back.get(i));
                }
            }
            progress.update("reconstruct", to, images.size());
        }
        return summarise(source, size, psnr, histogram);
    }

    /**
     * The report from per-image PSNRs and the code histogram (exact reconstructions, +∞ dB, count
     * as {@link #EXACT_PSNR_DB} in the mean).
     */
    public static Reconstruction summarise(String source, int resolution, double[] psnrDb, long[] histogram) {
        if (psnrDb.length == 0) {
            throw new IllegalArgumentException("no images");
        }
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int exact = 0;
        for (double p : psnrDb) {
            if (p == Double.POSITIVE_INFINITY) {
                exact++;
            }
            sum += Math.min(p, EXACT_PSNR_DB);
            min = Math.min(min, p);
            max = Math.max(max, p);
        }
        long cells = 0;
        for (long h : histogram) {
            cells += h;
        }
        return new Reconstruction(source, psnrDb.length, resolution, sum / psnrDb.length, min, max, exact,
                perplexity(histogram), distinct(histogram), histogram.length, cells);
    }

    /**
     * Peak signal-to-noise ratio in dB for pixels in [0, 1]: {@code 10 log10(1 / MSE)}; +∞ when
     * the images are identical.
     */
    public static double psnr(RgbImage a, RgbImage b) {
        double mse = mse(a, b);
        return mse == 0 ? Double.POSITIVE_INFINITY : -10 * Math.log10(mse);
    }

    /** Mean squared difference over every channel and pixel; the images must have one size. */
    public static double mse(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("images differ in size: " + a.width() + "x" + a.height() + " vs "
                    + b.width() + "x" + b.height());
        }
        float[] x = a.chw();
        float[] y = b.chw();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - y[i];
            s += d * d;
        }
        return s / x.length;
    }

    /**
     * {@code exp(H)} of the distribution the histogram counts, H in nats: K for a uniform
     * histogram over K codes, 1 when one code takes every cell. 1 for an empty histogram.
     */
    public static double perplexity(long[] histogram) {
        long total = 0;
        for (long h : histogram) {
            if (h < 0) {
                throw new IllegalArgumentException("negative count " + h);
            }
            total += h;
        }
        if (total == 0) {
            return 1;
        }
        double entropy = 0;
        for (long h : histogram) {
            if (h > 0) {
                double p = h / (double) total;
                entropy -= p * Math.log(p);
            }
        }
        return Math.exp(entropy);
    }

    /** Codes counted at least once. */
    public static int distinct(long[] histogram) {
        int n = 0;
        for (long h : histogram) {
            if (h > 0) {
                n++;
            }
        }
        return n;
    }
}
