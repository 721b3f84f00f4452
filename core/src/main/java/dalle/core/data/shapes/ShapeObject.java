package dalle.core.data.shapes;

import java.util.Locale;
import java.util.Objects;

/**
 * One object of a {@link Scene}. Positions and radius are fractions of the image side (so the
 * scene renders the same at 32, 64 or 128 pixels); the object fills the axis-aligned square
 * {@code [cx - radius, cx + radius] × [cy - radius, cy + radius]}, which must lie inside the image.
 *
 * @param colour fill colour
 * @param shape geometry
 * @param size size class; {@code radius} lies in its range
 * @param cx centre, fraction of the image width from the left edge
 * @param cy centre, fraction of the image height from the top edge
 * @param radius half the side of the filled square, fraction of the image side
 */
public record ShapeObject(Colour colour, ShapeKind shape, Size size, double cx, double cy, double radius) {
    public ShapeObject {
        Objects.requireNonNull(colour, "colour");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(size, "size");
        if (radius < size.minRadius() - 1e-9 || radius > size.maxRadius() + 1e-9) {
            throw new IllegalArgumentException("radius " + radius + " is outside the " + size.word() + " range ["
                    + size.minRadius() + ", " + size.maxRadius() + "]");
        }
        if (cx - radius < 0 || cx + radius > 1 || cy - radius < 0 || cy + radius > 1) {
            throw new IllegalArgumentException("object at (" + cx + ", " + cy + ") with radius " + radius
                    + " leaves the unit image");
        }
    }

    /** Its colour + shape combination. */
    public ColourShape pair() {
        return new ColourShape(colour, shape);
    }

    /** Gap between this object's square and {@code other}'s along the axis where they are furthest apart. */
    public double gapTo(ShapeObject other) {
        double gapX = Math.abs(cx - other.cx) - radius - other.radius;
        double gapY = Math.abs(cy - other.cy) - radius - other.radius;
        return Math.max(gapX, gapY);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %s %s at (%.3f, %.3f) r=%.3f", size.word(), colour.word(),
                shape.word(), cx, cy, radius);
    }
}
