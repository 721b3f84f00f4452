package dalle.core.data.shapes;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws {@link Scene}s for a {@link Split}. All geometry is in fractions of the image side: objects
 * keep {@link #MARGIN} from the image edge and, in a pair, {@link #GAP} between their squares along
 * the relation's axis, while the other axis differs by at most half the distance along it (so the
 * relation is unambiguous). At 64×64 the margin is 2 pixels and the gap 4.
 */
final class SceneSampler {

    /** Minimum distance from an object's square to the image edge. */
    static final double MARGIN = 0.03;
    /** Minimum gap between the squares of two objects along their relation's axis. */
    static final double GAP = 0.05;
    /** Largest |off-axis distance| / |on-axis distance| between two centres. */
    static final double OFF_AXIS_RATIO = 0.5;

    private SceneSampler() {}

    /** A scene of one object (probability 1/2) or two. */
    static Scene sample(SplittableRandom rng, Split split) {
        return sample(rng, split, rng.nextBoolean() ? 1 : 2);
    }

    /**
     * A scene of {@code count} objects whose colour + shape pairs respect {@code split}: none held
     * out for {@link Split#TRAIN}; at least one held out for {@link Split#HELD_OUT}. Two objects
     * never share both colour and shape.
     */
    static Scene sample(SplittableRandom rng, Split split, int count) {
        ColourShape first;
        ColourShape second;
        if (split == Split.TRAIN) {
            first = pick(rng, Split.TRAIN_PAIRS);
            second = pickOther(rng, Split.TRAIN_PAIRS, first);
        } else {
            first = pick(rng, Split.HELD_OUT_PAIRS);
            second = pickOther(rng, Split.allPairs(), first);
            if (count == 2 && rng.nextBoolean()) {
                ColourShape t = first;
                first = second;
                second = t;
            }
        }
        if (count == 1) {
            Size size = pickSize(rng);
            double r = radius(rng, size);
            double cx = uniform(rng, MARGIN + r, 1 - MARGIN - r);
            double cy = uniform(rng, MARGIN + r, 1 - MARGIN - r);
            return new Scene(List.of(new ShapeObject(first.colour(), first.shape(), size, cx, cy, r)));
        }
        if (count != 2) {
            throw new IllegalArgumentException("a scene holds 1 or 2 objects, asked for " + count);
        }
        return pair(rng, first, second);
    }

    private static Scene pair(SplittableRandom rng, ColourShape first, ColourShape second) {
        Size sizeA = pickSize(rng);
        Size sizeB = pickSize(rng);
        double ra = radius(rng, sizeA);
        double rb = radius(rng, sizeB);
        boolean horizontal = rng.nextBoolean();
        boolean firstLeads = rng.nextBoolean(); // first object left of / above the second
        double rLead = firstLeads ? ra : rb;
        double rTrail = firstLeads ? rb : ra;

        // Along the axis: [margin | lead | gap | trail | margin] plus slack split at two uniform cuts.
        double slack = 1 - 2 * MARGIN - 2 * rLead - GAP - 2 * rTrail;
        double cut1 = rng.nextDouble() * slack;
        double cut2 = rng.nextDouble() * slack;
        double leadOn = MARGIN + Math.min(cut1, cut2) + rLead;
        double trailOn = MARGIN + Math.max(cut1, cut2) + 2 * rLead + GAP + rTrail;
        double along = trailOn - leadOn;

        // Across the axis: the lead anywhere, the trail within OFF_AXIS_RATIO of the on-axis distance.
        double leadOff = uniform(rng, MARGIN + rLead, 1 - MARGIN - rLead);
        double lo = Math.max(MARGIN + rTrail, leadOff - OFF_AXIS_RATIO * along);
        double hi = Math.min(1 - MARGIN - rTrail, leadOff + OFF_AXIS_RATIO * along);
        double trailOff = uniform(rng, lo, hi);

        double leadX = horizontal ? leadOn : leadOff;
        double leadY = horizontal ? leadOff : leadOn;
        double trailX = horizontal ? trailOn : trailOff;
        double trailY = horizontal ? trailOff : trailOn;
        ShapeObject a = new ShapeObject(first.colour(), first.shape(), sizeA, firstLeads ? leadX : trailX,
                firstLeads ? leadY : trailY, ra);
        ShapeObject b = new ShapeObject(second.colour(), second.shape(), sizeB, firstLeads ? trailX : leadX,
                firstLeads ? trailY : leadY, rb);
        return new Scene(List.of(a, b));
    }

    private static ColourShape pick(SplittableRandom rng, List<ColourShape> pairs) {
        return pairs.get(rng.nextInt(pairs.size()));
    }

    private static ColourShape pickOther(SplittableRandom rng, List<ColourShape> pairs, ColourShape not) {
        ColourShape p;
        do {
            p = pick(rng, pairs);
        } while (p.equals(not));
        return p;
    }

    private static Size pickSize(SplittableRandom rng) {
        Size[] sizes = Size.values();
        return sizes[rng.nextInt(sizes.length)];
    }

    private static double radius(SplittableRandom rng, Size size) {
        return uniform(rng, size.minRadius(), size.maxRadius());
    }

    private static double uniform(SplittableRandom rng, double lo, double hi) {
        return lo + rng.nextDouble() * (hi - lo);
    }
}
