package dalle.core.eval.emoji;

import dalle.core.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The model-independent judge of caption match on emoji: which picture of a reference set (every rendering of one
 * vendor's artwork, training and held-out alike) an image is nearest to, in a fixed feature space that no trained
 * model touches. An image "identifies" its caption at rank r when the caption's true rendering is the (r+1)-th
 * nearest reference picture: top-1 is rank 0, top-5 rank &lt; 5.
 *
 * <p>Features: the image area-averaged down to {@code cells × cells} RGB (in [0, 1]), compared by Euclidean
 * distance. Coarse on purpose: it keeps colour and layout (a hand's skin tone, a face's shape, a flag's stripes)
 * and drops the strokes in which two artists' drawings of one emoji differ. Ties (equal distances) go to the lower
 * reference index, so ranks are deterministic.
 */
public final class EmojiJudge {

    private final int cells;
    private final List<float[]> references;

    /**
     * @param references the reference pictures, all of one size divisible by {@code cells}
     * @param cells side of the feature grid
     */
    public EmojiJudge(List<RgbImage> references, int cells) {
        Objects.requireNonNull(references, "references");
        if (references.isEmpty()) {
            throw new IllegalArgumentException("the judge needs at least one reference picture");
        }
        this.cells = cells;
        this.references = new ArrayList<>(references.size());
        for (RgbImage r : references) {
            this.references.add(features(r, cells));
        }
    }

    /** Number of reference pictures. */
    public int size() {
        return references.size();
    }

    /**
     * The rank of reference {@code truth} among all references by distance to {@code image}: the number of
     * references strictly nearer, plus those at the same distance with a lower index.
     */
    public int rank(RgbImage image, int truth) {
        Objects.checkIndex(truth, references.size());
        float[] f = features(image, cells);
        double d = distance(f, references.get(truth));
        int rank = 0;
        for (int i = 0; i < references.size(); i++) {
            if (i == truth) {
                continue;
            }
            double di = distance(f, references.get(i));
            if (di < d || (di == d && i < truth)) {
                rank++;
            }
        }
        return rank;
    }

    /** The index of the nearest reference (ties: the lower index). */
    public int nearest(RgbImage image) {
        float[] f = features(image, cells);
        int best = 0;
        double bestD = Double.POSITIVE_INFINITY;
        for (int i = 0; i < references.size(); i++) {
            double di = distance(f, references.get(i));
            if (di < bestD) {
                bestD = di;
                best = i;
            }
        }
        return best;
    }

    /**
     * {@code (3, cells, cells)} area averages of {@code image}, channel-major.
     *
     * @throws IllegalArgumentException when the image is not square or its side is not a multiple of {@code cells}
     */
    public static float[] features(RgbImage image, int cells) {
        int s = image.width();
        if (image.height() != s || cells < 1 || s % cells != 0) {
            throw new IllegalArgumentException("the judge takes square images whose side is a multiple of " + cells
                    + ", got " + image.width() + "x" + image.height());
        }
        int k = s / cells;
        float[] out = new float[3 * cells * cells];
        float[] chw = image.chw();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    out[(c * cells + y / k) * cells + x / k] += chw[(c * s + y) * s + x];
                }
            }
        }
        float norm = 1f / (k * k);
        for (int i = 0; i < out.length; i++) {
            out[i] *= norm;
        }
        return out;
    }

    private static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }
}
