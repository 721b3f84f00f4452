package dalle.core.data.shapes;

import java.util.List;
import java.util.Optional;

/**
 * What a caption asks for: one or two objects and, for two, optionally where the first lies
 * relative to the second ("a red circle above a blue square": first = red circle, ABOVE).
 * Captions describe whole scenes, so an image matches only if it shows exactly these objects.
 *
 * @param objects one or two objects, in the caption's order
 * @param relation the first object's place relative to the second; empty for one object or "and"
 */
public record CaptionQuery(List<ObjectQuery> objects, Optional<Relation> relation) {
    public CaptionQuery {
        objects = List.copyOf(objects);
        if (objects.isEmpty() || objects.size() > 2) {
            throw new IllegalArgumentException("a caption names 1 or 2 objects, got " + objects.size());
        }
        if (relation.isPresent() && objects.size() != 2) {
            throw new IllegalArgumentException("relation " + relation.get() + " needs two objects, got " + objects);
        }
    }

    /** One object. */
    public static CaptionQuery one(ObjectQuery object) {
        return new CaptionQuery(List.of(object), Optional.empty());
    }

    /** Two objects, no relation ("a red circle and a blue square"). */
    public static CaptionQuery and(ObjectQuery first, ObjectQuery second) {
        return new CaptionQuery(List.of(first, second), Optional.empty());
    }

    /** Two objects, the first {@code relation} the second. */
    public static CaptionQuery related(ObjectQuery first, Relation relation, ObjectQuery second) {
        return new CaptionQuery(List.of(first, second), Optional.of(relation));
    }

    /** The canonical caption: "a red circle", "a red circle and a blue square", "a red circle above a blue square". */
    public String canonical() {
        if (objects.size() == 1) {
            return objects.get(0).withArticle();
        }
        String middle = relation.map(Relation::phrase).orElse("and");
        return objects.get(0).withArticle() + " " + middle + " " + objects.get(1).withArticle();
    }

    /** Whether any named object has a held-out colour + shape pair. */
    public boolean namesHeldOutPair() {
        return objects.stream().anyMatch(o -> Split.isHeldOut(o.pair()));
    }

    @Override
    public String toString() {
        return canonical();
    }
}
