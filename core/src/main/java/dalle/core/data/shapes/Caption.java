package dalle.core.data.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A caption of a scene: its text, what it asks for, and the phrasing used.
 *
 * @param text the caption as an example carries it
 * @param query what the text says, as {@link CaptionParser} must read it back
 * @param phrasing the template the text was written with
 */
public record Caption(String text, CaptionQuery query, Phrasing phrasing) {

    /** Probability that a caption of two objects states their relation (otherwise it says "and"). */
    static final double RELATION_PROBABILITY = 0.75;
    /** Probability that a caption names an object's size. */
    static final double SIZE_PROBABILITY = 0.5;

    /**
     * A true caption of {@code scene}: each object's size named with probability 1/2; for two
     * objects, either order, with their relation (probability 3/4) or joined by "and"; one of the
     * fitting {@link Phrasing}s, uniformly.
     */
    public static Caption describe(Scene scene, SplittableRandom rng) {
        return describe(scene, rng, rng.nextDouble() < RELATION_PROBABILITY);
    }

    /** As {@link #describe(Scene, SplittableRandom)}, with the relation stated iff {@code withRelation}. */
    static Caption describe(Scene scene, SplittableRandom rng, boolean withRelation) {
        List<ObjectQuery> objects = new ArrayList<>();
        for (ShapeObject o : scene.objects()) {
            objects.add(rng.nextDouble() < SIZE_PROBABILITY
                    ? ObjectQuery.of(o.colour(), o.shape(), o.size())
                    : ObjectQuery.of(o.colour(), o.shape()));
        }
        CaptionQuery query;
        if (objects.size() == 1) {
            query = CaptionQuery.one(objects.get(0));
        } else {
            boolean swap = rng.nextBoolean();
            ObjectQuery first = objects.get(swap ? 1 : 0);
            ObjectQuery second = objects.get(swap ? 0 : 1);
            Optional<Relation> relation = withRelation
                    ? scene.relation().map(r -> swap ? r.inverse() : r)
                    : Optional.empty();
            query = new CaptionQuery(List.of(first, second), relation);
        }
        List<Phrasing> fitting = new ArrayList<>();
        for (Phrasing p : Phrasing.values()) {
            if (p.fits(query)) {
                fitting.add(p);
            }
        }
        Phrasing phrasing = fitting.get(rng.nextInt(fitting.size()));
        return new Caption(phrasing.write(query), query, phrasing);
    }
}
