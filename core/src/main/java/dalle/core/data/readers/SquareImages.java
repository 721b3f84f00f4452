package dalle.core.data.readers;

import dalle.core.image.RgbImage;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Centre crop to a square, then resize to {@code R x R}: the one deterministic way every reader shapes its images.
 *
 * <p>The crop keeps the central {@code S x S} square, {@code S = min(width, height)}, starting at
 * {@code ((width - S) / 2, (height - S) / 2)} (integer division: an odd margin leaves the extra pixel on the right or
 * bottom). The resize is separable, rows then columns:
 * <ul>
 *   <li>{@code S > R}: exact area averaging. Output pixel {@code o} covers source interval
 *       {@code [o S/R, (o+1) S/R)}; each source pixel is weighted by its overlap with that interval, computed in
 *       integers, so the result does not depend on floating-point rounding of the ratio.</li>
 *   <li>{@code S < R}: bilinear interpolation with pixel centres aligned ({@code x = (o + 0.5) S/R - 0.5}, clamped to
 *       the edge).</li>
 *   <li>{@code S == R}: a copy.</li>
 * </ul>
 * Values are in [0, 1] as in {@link RgbImage}. sRGB and grayscale images are read straight from their raster (at
 * full precision for 16-bit PNGs); other types go through {@link BufferedImage#getRGB}. Grayscale must not go through
 * {@code getRGB}, which treats the stored levels as linear light and brightens them (128 reads as 188).
 * Working memory is {@code 3 S R} floats besides the source.
 */
public final class SquareImages {

    private SquareImages() {}

    /** Centre-crops and resizes a decoded image of any type (alpha is dropped) to {@code resolution} squared. */
    public static RgbImage centreCropResize(BufferedImage img, int resolution) {
        int s = Math.min(img.getWidth(), img.getHeight());
        int x0 = (img.getWidth() - s) / 2;
        int y0 = (img.getHeight() - s) / 2;
        return resample(s, rowsOf(img, x0, y0, s), resolution);
    }

    /** Centre-crops and resizes an {@link RgbImage} to {@code resolution} squared. */
    public static RgbImage centreCropResize(RgbImage img, int resolution) {
        int s = Math.min(img.width(), img.height());
        int x0 = (img.width() - s) / 2;
        int y0 = (img.height() - s) / 2;
        float[] chw = img.chw();
        int plane = img.width() * img.height();
        RowSource rows = (y, out) -> {
            for (int c = 0; c < 3; c++) {
                System.arraycopy(chw, c * plane + (y0 + y) * img.width() + x0, out[c], 0, s);
            }
        };
        return resample(s, rows, resolution);
    }

    /** Fills {@code out[c][0..S)} with row {@code y} of the crop, channel {@code c} in [0, 1]. */
    private interface RowSource {
        void row(int y, float[][] out);
    }

    private static RowSource rowsOf(BufferedImage img, int x0, int y0, int s) {
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
            float max = (1 << cm.getComponentSize(0)) - 1;
            int[] samples = new int[s];
            return (y, out) -> {
                raster.getSamples(raster.getMinX() + x0, raster.getMinY() + y0 + y, s, 1, 0, samples);
                for (int x = 0; x < s; x++) {
                    float v = samples[x] / max;
                    out[0][x] = v;
                    out[1][x] = v;
                    out[2][x] = v;
                }
            };
        }
        if (cm.getColorSpace().isCS_sRGB() && !(cm instanceof IndexColorModel) && !cm.isAlphaPremultiplied()
                && raster.getNumBands() >= 3) {
            // Fast path (decoded JPEGs and PNGs): the raster's first three bands are R, G, B in sRGB.
            int bands = raster.getNumBands();
            float[] max = new float[3];
            for (int c = 0; c < 3; c++) {
                max[c] = (float) ((1L << cm.getComponentSize(c)) - 1);
            }
            int[] pixels = new int[s * bands];
            return (y, out) -> {
                raster.getPixels(raster.getMinX() + x0, raster.getMinY() + y0 + y, s, 1, pixels);
                for (int x = 0; x < s; x++) {
                    for (int c = 0; c < 3; c++) {
                        out[c][x] = pixels[x * bands + c] / max[c];
                    }
                }
            };
        }
        int[] argb = new int[s];
        return (y, out) -> {
            img.getRGB(x0, y0 + y, s, 1, argb, 0, s);
            for (int x = 0; x < s; x++) {
                out[0][x] = ((argb[x] >> 16) & 0xff) / 255f;
                out[1][x] = ((argb[x] >> 8) & 0xff) / 255f;
                out[2][x] = (argb[x] & 0xff) / 255f;
            }
        };
    }

    /** Resizes the {@code s x s} crop read by {@code rows} to {@code r x r}. */
    private static RgbImage resample(int s, RowSource rows, int r) {
        if (r < 1) {
            throw new IllegalArgumentException("resolution " + r + " must be positive");
        }
        Taps taps = Taps.of(s, r);
        // Pass 1, along rows: (3, S, S) -> (3, S, R), one source row at a time.
        float[][] row = new float[3][s];
        float[] mid = new float[3 * s * r];
        for (int y = 0; y < s; y++) {
            rows.row(y, row);
            for (int c = 0; c < 3; c++) {
                int base = (c * s + y) * r;
                for (int o = 0; o < r; o++) {
                    mid[base + o] = taps.apply(o, row[c], 0, 1);
                }
            }
        }
        // Pass 2, along columns: (3, S, R) -> (3, R, R).
        float[] out = new float[3 * r * r];
        for (int c = 0; c < 3; c++) {
            for (int o = 0; o < r; o++) {
                for (int x = 0; x < r; x++) {
                    out[(c * r + o) * r + x] = taps.apply(o, mid, c * s * r + x, r);
                }
            }
        }
        return new RgbImage(r, r, out);
    }

    /** Per-output source indices and weights along one axis ({@code S -> R}); weights of each output sum to 1. */
    private record Taps(int[] first, double[][] weights) {

        static Taps of(int s, int r) {
            int[] first = new int[r];
            double[][] weights = new double[r][];
            for (int o = 0; o < r; o++) {
                if (s > r) {
                    // In units of 1/R source pixels: output o covers [o S, (o+1) S), source i covers [i R, (i+1) R).
                    long lo = (long) o * s;
                    long hi = lo + s;
                    int i0 = (int) (lo / r);
                    int i1 = (int) ((hi - 1) / r);
                    first[o] = i0;
                    weights[o] = new double[i1 - i0 + 1];
                    for (int i = i0; i <= i1; i++) {
                        long overlap = Math.min(hi, (long) (i + 1) * r) - Math.max(lo, (long) i * r);
                        weights[o][i - i0] = (double) overlap / s;
                    }
                } else if (s < r) {
                    double x = (o + 0.5) * s / r - 0.5;
                    x = Math.max(0, Math.min(s - 1, x));
                    int i0 = (int) Math.floor(x);
                    double frac = x - i0;
                    first[o] = i0;
                    weights[o] = i0 + 1 < s ? new double[] {1 - frac, frac} : new double[] {1};
                } else {
                    first[o] = o;
                    weights[o] = new double[] {1};
                }
            }
            return new Taps(first, weights);
        }

        /** Weighted sum for output {@code o} over {@code src[offset + (first + k) * stride]}. */
        float apply(int o, float[] src, int offset, int stride) {
            double[] w = weights[o];
            int at = offset + first[o] * stride;
            double sum = 0;
            for (int k = 0; k < w.length; k++) {
                sum += w[k] * src[at + k * stride];
            }
            return (float) sum;
        }
    }
}
