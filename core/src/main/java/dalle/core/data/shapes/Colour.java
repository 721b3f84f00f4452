package dalle.core.data.shapes;

import java.util.Locale;

/**
 * The palette of the shapes data set: eight saturated colours that stay well apart in
 * chromaticity (colour divided by its brightest channel), drawn on a black background.
 *
 * <p>The closest pair in chromaticity is orange against red or yellow (about 0.46); every other
 * pair is at least 0.6 apart. The {@link Oracle} classifies by chromaticity, so the darkened edge
 * pixels of a blurred object keep their colour.
 */
public enum Colour {
    RED(0.95f, 0.10f, 0.10f),
    ORANGE(1.00f, 0.55f, 0.00f),
    YELLOW(0.95f, 0.95f, 0.10f),
    GREEN(0.10f, 0.80f, 0.10f),
    CYAN(0.10f, 0.85f, 0.95f),
    BLUE(0.10f, 0.20f, 0.95f),
    PURPLE(0.60f, 0.10f, 0.85f),
    WHITE(0.95f, 0.95f, 0.95f);

    private final float r;
    private final float g;
    private final float b;

    Colour(float r, float g, float b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    /** The word captions use ("red"). */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Channel value in [0, 1]; {@code c} = 0 (red), 1 (green) or 2 (blue). */
    public float channel(int c) {
        return switch (c) {
            case 0 -> r;
            case 1 -> g;
            case 2 -> b;
            default -> throw new IllegalArgumentException("channel " + c + " is not 0, 1 or 2");
        };
    }

    /** The colour divided by its brightest channel: what the oracle compares pixels against. */
    float[] chromaticity() {
        float max = Math.max(r, Math.max(g, b));
        return new float[] {r / max, g / max, b / max};
    }

    /** The colour whose word is {@code word} (lower case), for the caption parser. */
    static Colour fromWord(String word) {
        for (Colour c : values()) {
            if (c.word().equals(word)) {
                return c;
            }
        }
        throw new IllegalArgumentException("'" + word + "' is not a colour");
    }
}
