package dalle.core.data.shapes;

import java.util.Locale;

/**
 * Object sizes. A shape's radius is half the side of the square it fills, measured as a fraction
 * of the image side so a scene means the same thing at every resolution. Generated radii are drawn
 * uniformly from {@code [minRadius, maxRadius]}; readers split at {@link #THRESHOLD}, midway
 * between the two ranges.
 */
public enum Size {
    SMALL(0.11, 0.13),
    LARGE(0.19, 0.22);

    /** Radius (fraction of the image side) below which a seen object counts as small. */
    public static final double THRESHOLD = 0.16;

    private final double minRadius;
    private final double maxRadius;

    Size(double minRadius, double maxRadius) {
        this.minRadius = minRadius;
        this.maxRadius = maxRadius;
    }

    /** The word captions use ("small"). */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Smallest generated radius, as a fraction of the image side. */
    public double minRadius() {
        return minRadius;
    }

    /** Largest generated radius, as a fraction of the image side. */
    public double maxRadius() {
        return maxRadius;
    }

    /** The size a reader assigns to an object of the given radius (fraction of the image side). */
    public static Size classify(double radius) {
        return radius < THRESHOLD ? SMALL : LARGE;
    }

    static Size fromWord(String word) {
        for (Size s : values()) {
            if (s.word().equals(word)) {
                return s;
            }
        }
        throw new IllegalArgumentException("'" + word + "' is not a size");
    }
}
