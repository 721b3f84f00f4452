package dalle.core.data.shapes;

import java.util.Objects;

/** A colour + shape combination ("red square"), the unit the train / held-out split is made of. */
public record ColourShape(Colour colour, ShapeKind shape) {
    public ColourShape {
        Objects.requireNonNull(colour, "colour");
        Objects.requireNonNull(shape, "shape");
    }

    @Override
    public String toString() {
        return colour.word() + " " + shape.word();
    }
}
