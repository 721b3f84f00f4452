package dalle.core.pipeline;

import java.util.Comparator;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * The one ranking rule of a generation: score descending, ties broken by the lower candidate index. The
 * in-process {@link Pipeline}, the gateway's synchronous path and the Kafka fan-in all order candidates with it,
 * which is what lets the same caption and seed give the same top-k, in the same order, on every path.
 *
 * <p>It is a total order on (score, index) pairs, so the best k of all candidates equals the best k of (the best
 * k so far + each newcomer), whatever the arrival order: the fan-in keeps only k candidates per request.
 */
public final class Ranking {

    private Ranking() {
    }

    /** The rule over any candidate type, given how to read its score and its index. */
    public static <T> Comparator<T> bestFirst(ToDoubleFunction<T> score, ToIntFunction<T> index) {
        return Comparator.comparingDouble((T t) -> -score.applyAsDouble(t)).thenComparingInt(index);
    }

    /** Candidate indices {@code 0 .. scores.length − 1}, best first, for scores indexed by candidate. */
    public static int[] order(float[] scores) {
        return java.util.stream.IntStream.range(0, scores.length).boxed()
                .sorted(bestFirst((Integer i) -> scores[i], Integer::intValue))
                .mapToInt(Integer::intValue).toArray();
    }
}
