package dalle.core.data.shapes;

import java.util.Locale;

/**
 * One object the {@link Oracle} found in an image: its best-guess attributes and how sure it is.
 * Positions and radius are fractions of the image side, as in {@link ShapeObject}.
 *
 * @param colour nearest palette colour (by chromaticity)
 * @param colourAgreement fraction of the object's pixels whose own nearest colour is {@code colour}
 * @param colourClear whether the colour is unambiguous (enough agreement, close to the palette)
 * @param shape the shape whose template overlaps the object best
 * @param shapeIou soft intersection over union of the object's colour coverage with that shape's
 *     template, placed and sized from the coverage's area and centroid (1 = perfect)
 * @param shapeClear whether the shape is unambiguous ({@code shapeIou} at least {@link Oracle#MIN_SHAPE_IOU})
 * @param size size class of {@code radius}
 * @param cx fitted centre of the shape's square, fraction of the image width
 * @param cy fitted centre of the shape's square, fraction of the image height
 * @param radius fitted half side of the shape's square, fraction of the image side
 * @param area pixel count
 */
public record DetectedObject(
        Colour colour,
        double colourAgreement,
        boolean colourClear,
        ShapeKind shape,
        double shapeIou,
        boolean shapeClear,
        Size size,
        double cx,
        double cy,
        double radius,
        int area) {

    /** Whether this object is what {@code query} names (colour and shape must also be clear). */
    public boolean fits(ObjectQuery query) {
        return colourClear && shapeClear && query.accepts(colour, shape, size);
    }

    /** "large red circle at (0.31, 0.52)", with the doubts spelled out when there are any. */
    public String describe() {
        String colourWord = colourClear
                ? colour.word()
                : String.format(Locale.ROOT, "unclear-colour (nearest %s, %.0f%% agree)", colour.word(),
                        100 * colourAgreement);
        String shapeWord = shapeClear
                ? shape.word()
                : String.format(Locale.ROOT, "unclear-shape (nearest %s, iou %.2f)", shape.word(), shapeIou);
        return String.format(Locale.ROOT, "%s %s %s at (%.2f, %.2f)", size.word(), colourWord, shapeWord, cx, cy);
    }

    @Override
    public String toString() {
        return describe();
    }
}
