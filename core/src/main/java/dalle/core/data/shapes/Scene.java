package dalle.core.data.shapes;

import java.util.List;
import java.util.Optional;

/**
 * What one image of the shapes data set shows: one or two objects on a black background, their
 * squares disjoint. Resolution-free: see {@link ShapeObject} for units.
 */
public record Scene(List<ShapeObject> objects) {
    public Scene {
        objects = List.copyOf(objects);
        if (objects.isEmpty() || objects.size() > 2) {
            throw new IllegalArgumentException("a scene holds 1 or 2 objects, got " + objects.size());
        }
        if (objects.size() == 2 && objects.get(0).gapTo(objects.get(1)) <= 0) {
            throw new IllegalArgumentException("objects overlap: " + objects);
        }
    }

    /** Where the first object lies relative to the second; empty for a single object. */
    public Optional<Relation> relation() {
        if (objects.size() < 2) {
            return Optional.empty();
        }
        ShapeObject a = objects.get(0);
        ShapeObject b = objects.get(1);
        return Optional.of(Relation.of(b.cx() - a.cx(), b.cy() - a.cy()));
    }

    /** Whether any object has the colour + shape combination {@code pair}. */
    public boolean contains(ColourShape pair) {
        return objects.stream().anyMatch(o -> o.pair().equals(pair));
    }
}
