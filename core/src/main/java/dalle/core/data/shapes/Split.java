package dalle.core.data.shapes;

import static dalle.core.data.shapes.Colour.BLUE;
import static dalle.core.data.shapes.Colour.CYAN;
import static dalle.core.data.shapes.Colour.GREEN;
import static dalle.core.data.shapes.Colour.ORANGE;
import static dalle.core.data.shapes.Colour.PURPLE;
import static dalle.core.data.shapes.Colour.RED;
import static dalle.core.data.shapes.Colour.WHITE;
import static dalle.core.data.shapes.Colour.YELLOW;
import static dalle.core.data.shapes.ShapeKind.CIRCLE;
import static dalle.core.data.shapes.ShapeKind.DIAMOND;
import static dalle.core.data.shapes.ShapeKind.SQUARE;
import static dalle.core.data.shapes.ShapeKind.STAR;
import static dalle.core.data.shapes.ShapeKind.TRIANGLE;

import java.util.ArrayList;
import java.util.List;

/**
 * The two halves of the shapes data set. {@link #HELD_OUT_PAIRS} (8 of the 40 colour + shape
 * pairs, 20%) never appear in a {@link #TRAIN} image; every {@link #HELD_OUT} image shows at least
 * one of them. Each colour is held out with exactly one shape and each shape with at most two
 * colours, so every colour and every shape is still seen in training, in 4 or more combinations.
 * Generating a held-out pair is the zero-shot test.
 */
public enum Split {
    TRAIN,
    HELD_OUT;

    /** The fixed held-out list; changing it changes what "zero-shot" means, so it never changes. */
    public static final List<ColourShape> HELD_OUT_PAIRS = List.of(
            new ColourShape(RED, SQUARE),
            new ColourShape(ORANGE, CIRCLE),
            new ColourShape(YELLOW, STAR),
            new ColourShape(GREEN, CIRCLE),
            new ColourShape(CYAN, SQUARE),
            new ColourShape(BLUE, TRIANGLE),
            new ColourShape(PURPLE, DIAMOND),
            new ColourShape(WHITE, TRIANGLE));

    /** Every pair not held out, in colour-major order (32 pairs). */
    public static final List<ColourShape> TRAIN_PAIRS = trainPairs();

    /** Whether {@code pair} is one of {@link #HELD_OUT_PAIRS}. */
    public static boolean isHeldOut(ColourShape pair) {
        return HELD_OUT_PAIRS.contains(pair);
    }

    /** Every colour + shape pair, in colour-major order (40 pairs). */
    public static List<ColourShape> allPairs() {
        List<ColourShape> all = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (ShapeKind s : ShapeKind.values()) {
                all.add(new ColourShape(c, s));
            }
        }
        return List.copyOf(all);
    }

    private static List<ColourShape> trainPairs() {
        return allPairs().stream().filter(p -> !HELD_OUT_PAIRS.contains(p)).toList();
    }
}
