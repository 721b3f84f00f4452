package dalle.core.data.shapes;

import dalle.core.data.Example;
import dalle.core.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The synthetic captioned data set: item {@code i} of a split is a function of (seed, split, i)
 * alone, so any index can be made on demand, in any order, on any machine, and the same index
 * gives the same scene (and caption) at every resolution.
 *
 * <p>Each image shows one or two objects (eight {@link Colour}s, five {@link ShapeKind}s, two
 * {@link Size}s) on black; two objects stand in a clear {@link Relation}. Captions come in several
 * {@link Phrasing}s. The {@link Split#TRAIN} split never shows a {@link Split#HELD_OUT_PAIRS held-out}
 * colour + shape pair; {@link Split#HELD_OUT} always shows at least one.
 */
public final class ShapesDataset {

    /** Resolution when none is given. */
    public static final int DEFAULT_RESOLUTION = 64;

    private final long seed;
    private final int resolution;
    private final Split split;

    /**
     * @param seed selects the data set; different seeds give unrelated items
     * @param resolution image side in pixels, at least 32 (objects get too few pixels below that)
     * @param split which pairs may appear
     */
    public ShapesDataset(long seed, int resolution, Split split) {
        if (resolution < 32) {
            throw new IllegalArgumentException("resolution " + resolution + " is below the minimum of 32");
        }
        this.seed = seed;
        this.resolution = resolution;
        this.split = Objects.requireNonNull(split, "split");
    }

    /** The training split. */
    public static ShapesDataset train(long seed, int resolution) {
        return new ShapesDataset(seed, resolution, Split.TRAIN);
    }

    /** The held-out split: every scene shows at least one held-out pair. */
    public static ShapesDataset heldOut(long seed, int resolution) {
        return new ShapesDataset(seed, resolution, Split.HELD_OUT);
    }

    public long seed() {
        return seed;
    }

    public int resolution() {
        return resolution;
    }

    public Split split() {
        return split;
    }

    /** Scene {@code i} ({@code i >= 0}). */
    public Scene scene(long i) {
        return SceneSampler.sample(rng(i), split);
    }

    /** Caption of item {@code i}, with what it says and how it is phrased. */
    public Caption caption(long i) {
        SplittableRandom rng = rng(i);
        Scene scene = SceneSampler.sample(rng, split);
        return Caption.describe(scene, rng);
    }

    /** Item {@code i} as an {@link Example}; source reads {@code shapes:<split>:seed=<seed>:<i>}. */
    public Example example(long i) {
        SplittableRandom rng = rng(i);
        Scene scene = SceneSampler.sample(rng, split);
        Caption caption = Caption.describe(scene, rng);
        RgbImage image = SceneRenderer.render(scene, resolution);
        return new Example(image, caption.text(), "shapes:" + split.name().toLowerCase(Locale.ROOT)
                + ":seed=" + seed + ":" + i);
    }

    /** Items {@code start, start + 1, ...}, {@code count} of them, in order. */
    public Stream<Example> examples(long start, long count) {
        if (start < 0 || count < 0) {
            throw new IllegalArgumentException("start " + start + " and count " + count + " must be non-negative");
        }
        return LongStream.range(start, start + count).mapToObj(this::example);
    }

    /**
     * The first {@code count} captions of a fixed evaluation list, the same for every resolution.
     * Single-object lists enumerate their pairs (without size, then small, then large) and wrap
     * around; relation lists are drawn from scenes of the matching split under {@code seed}.
     */
    public static List<String> evaluationCaptions(EvalSet set, int count, long seed) {
        if (count < 0) {
            throw new IllegalArgumentException("count " + count + " must be non-negative");
        }
        List<String> out = new ArrayList<>(count);
        switch (set) {
            case SINGLE_SEEN, SINGLE_HELD_OUT -> {
                List<ColourShape> pairs = set == EvalSet.SINGLE_SEEN ? Split.TRAIN_PAIRS : Split.HELD_OUT_PAIRS;
                List<Optional<Size>> sizes = List.of(Optional.empty(), Optional.of(Size.SMALL), Optional.of(Size.LARGE));
                for (int k = 0; k < count; k++) {
                    ColourShape p = pairs.get(k % pairs.size());
                    Optional<Size> size = sizes.get((k / pairs.size()) % sizes.size());
                    out.add(new ObjectQuery(p.colour(), p.shape(), size).withArticle());
                }
            }
            case RELATION_SEEN, RELATION_HELD_OUT -> {
                Split from = set == EvalSet.RELATION_SEEN ? Split.TRAIN : Split.HELD_OUT;
                for (int k = 0; k < count; k++) {
                    SplittableRandom rng = new SplittableRandom(mix(seed, k, 2 + from.ordinal()));
                    Scene scene = SceneSampler.sample(rng, from, 2);
                    out.add(Caption.describe(scene, rng, true).text());
                }
            }
        }
        return out;
    }

    private SplittableRandom rng(long i) {
        if (i < 0) {
            throw new IllegalArgumentException("index " + i + " is negative");
        }
        return new SplittableRandom(mix(seed, i, split.ordinal()));
    }

    /** A well-mixed 64-bit stream seed from (seed, index, stream). */
    private static long mix(long seed, long index, int stream) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z ^= (stream + 1L) * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
