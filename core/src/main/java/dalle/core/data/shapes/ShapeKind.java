package dalle.core.data.shapes;

import java.util.Locale;

/**
 * The shapes of the data set, each defined as a region of the square {@code [-1, 1]²} that it
 * fills edge to edge, so every shape of radius {@code r} spans exactly {@code 2r × 2r}. Coordinates
 * are image-like: {@code u} grows to the right, {@code v} grows downwards.
 *
 * <p>The shapes differ enough in geometry to be told apart by template overlap at 64×64: the
 * closest pair is circle against square (intersection over union π/4).
 */
public enum ShapeKind {
    CIRCLE,
    SQUARE,
    /** Apex at the top centre, base along the bottom edge. */
    TRIANGLE,
    /** A square turned by 45°. */
    DIAMOND,
    /** Five points, one pointing up, inner radius half the outer, stretched to fill the square. */
    STAR;

    private static final int STAR_POINTS = 5;
    private static final double STAR_INNER = 0.5;
    private static final double[] STAR_X = new double[2 * STAR_POINTS];
    private static final double[] STAR_Y = new double[2 * STAR_POINTS];

    static {
        // Star vertices in its own frame (outer radius 1), then stretched so the star fills [-1, 1]².
        double halfWidth = Math.cos(Math.toRadians(18));
        double bottom = Math.cos(Math.toRadians(36));
        for (int k = 0; k < 2 * STAR_POINTS; k++) {
            double angle = -Math.PI / 2 + k * Math.PI / STAR_POINTS;
            double radius = k % 2 == 0 ? 1.0 : STAR_INNER;
            STAR_X[k] = radius * Math.cos(angle) / halfWidth;
            STAR_Y[k] = -1 + (radius * Math.sin(angle) + 1) * 2 / (1 + bottom);
        }
    }

    /** The word captions use ("circle"). */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether the point {@code (u, v)} of the shape's square frame lies inside the shape.
     * Points outside {@code [-1, 1]²} are never inside.
     */
    public boolean contains(double u, double v) {
        if (Math.abs(u) > 1 || Math.abs(v) > 1) {
            return false;
        }
        return switch (this) {
            case CIRCLE -> u * u + v * v <= 1;
            case SQUARE -> true;
            case TRIANGLE -> Math.abs(u) <= (v + 1) / 2;
            case DIAMOND -> Math.abs(u) + Math.abs(v) <= 1;
            case STAR -> insideStar(u, v);
        };
    }

    private static boolean insideStar(double u, double v) {
        // Even-odd ray casting against the star polygon.
        boolean inside = false;
        int n = STAR_X.length;
        for (int i = 0, j = n - 1; i < n; j = i++) {
            if ((STAR_Y[i] > v) != (STAR_Y[j] > v)
                    && u < (STAR_X[j] - STAR_X[i]) * (v - STAR_Y[i]) / (STAR_Y[j] - STAR_Y[i]) + STAR_X[i]) {
                inside = !inside;
            }
        }
        return inside;
    }

    /** Area as a fraction of the square {@code [-1, 1]²} it fills (circle: π/4). */
    double areaFraction() {
        return Geometry.AREA[ordinal()];
    }

    /** Vertical position of the centroid in the square frame (triangle: 1/3, below the centre). */
    double centroidOffset() {
        return Geometry.CENTROID_V[ordinal()];
    }

    /** Area and centroid of each shape, integrated once on a fine grid. */
    private static final class Geometry {
        private static final int GRID = 512;
        static final double[] AREA = new double[values().length];
        static final double[] CENTROID_V = new double[values().length];

        static {
            for (ShapeKind s : values()) {
                long inside = 0;
                double sumV = 0;
                for (int j = 0; j < GRID; j++) {
                    double v = -1 + (j + 0.5) * 2 / GRID;
                    for (int i = 0; i < GRID; i++) {
                        if (s.contains(-1 + (i + 0.5) * 2 / GRID, v)) {
                            inside++;
                            sumV += v;
                        }
                    }
                }
                AREA[s.ordinal()] = inside / (double) (GRID * GRID);
                CENTROID_V[s.ordinal()] = sumV / inside;
            }
        }
    }

    /** The shape whose word is {@code word} (lower case), for the caption parser. */
    static ShapeKind fromWord(String word) {
        for (ShapeKind s : values()) {
            if (s.word().equals(word)) {
                return s;
            }
        }
        throw new IllegalArgumentException("'" + word + "' is not a shape");
    }
}
