package dalle.core.data.shapes;

import java.util.Objects;
import java.util.Optional;

/**
 * One object as a caption names it: colour and shape always, size only when the caption says it.
 *
 * @param colour the colour named
 * @param shape the shape named
 * @param size the size named, or empty when the caption leaves it open (any size matches)
 */
public record ObjectQuery(Colour colour, ShapeKind shape, Optional<Size> size) {
    public ObjectQuery {
        Objects.requireNonNull(colour, "colour");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(size, "size");
    }

    /** An object of any size. */
    public static ObjectQuery of(Colour colour, ShapeKind shape) {
        return new ObjectQuery(colour, shape, Optional.empty());
    }

    /** An object of the given size. */
    public static ObjectQuery of(Colour colour, ShapeKind shape, Size size) {
        return new ObjectQuery(colour, shape, Optional.of(size));
    }

    /** The same object with {@code colour} instead. */
    public ObjectQuery withColour(Colour colour) {
        return new ObjectQuery(colour, shape, size);
    }

    /** The same object with {@code shape} instead. */
    public ObjectQuery withShape(ShapeKind shape) {
        return new ObjectQuery(colour, shape, size);
    }

    /** Its colour + shape combination. */
    public ColourShape pair() {
        return new ColourShape(colour, shape);
    }

    /** Whether an object of this colour, shape and size fits the description. */
    public boolean accepts(Colour c, ShapeKind s, Size z) {
        return colour == c && shape == s && size.map(want -> want == z).orElse(true);
    }

    /** "small red circle" (no article). */
    public String words() {
        return size.map(z -> z.word() + " ").orElse("") + colour.word() + " " + shape.word();
    }

    /** "a small red circle", "an orange star": the words with the article English wants. */
    public String withArticle() {
        String words = words();
        return ("aeiou".indexOf(words.charAt(0)) >= 0 ? "an " : "a ") + words;
    }

    @Override
    public String toString() {
        return words();
    }
}
