package dalle.core.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * How scoring splits images into forward passes so that an image's score is the same, to the bit, whatever
 * other images it was requested with: the rule that lets the services batch whatever a Kafka poll or a gRPC call
 * brings and still give the in-process scores.
 *
 * <p>The rule: every forward pass holds 2 to {@link #MAX} images; a lone image is run beside a copy of
 * itself. Why: libtorch picks its CPU convolution kernel by batch size (one image takes another kernel
 * than two; on one thread, 1×1 convolutions switch kernel at 16 images), and between 2 and 15 images
 * an image's result depends neither on the batch's size nor on its position nor on its neighbours
 * (measured on the reranker; {@code BatchedStagesTest}). The reference arithmetic, "one image at a time", is
 * therefore "the image beside a copy of itself", and a batch is used only where {@link #invariant} has checked,
 * on the loaded model, that it gives exactly that.
 *
 * <p>Only the reranker runs under this rule. The dVAE decoder stays at one image per pass: batched, it was
 * slower on CPU (its 64×64 activations of 10+ images leave the caches; commit b50e4d9).
 */
final class StageBatches {

    /** Most images per forward pass. */
    static final int MAX = 15;

    private StageBatches() {}

    /** Bounds [from, to) of ceil(n / MAX) consecutive chunks of near-equal size (each at least 2 when n ≥ 2). */
    static List<int[]> chunks(int n) {
        List<int[]> out = new ArrayList<>();
        int count = (n + MAX - 1) / MAX;
        int from = 0;
        for (int c = 0; c < count; c++) {
            int size = n / count + (c < n % count ? 1 : 0);
            out.add(new int[] {from, from + size});
            from += size;
        }
        return out;
    }

    /**
     * Runs {@code forward} over {@code items} under the rule: in chunks when {@code batched}, else every item
     * beside a copy of itself; a chunk of one is always run that way.
     *
     * @param done told the number of items finished after each forward pass
     */
    static <T, R> List<R> run(List<T> items, boolean batched, Function<List<T>, List<R>> forward, IntConsumer done) {
        List<R> out = new ArrayList<>(items.size());
        List<int[]> bounds = batched ? chunks(items.size()) : singles(items.size());
        for (int[] b : bounds) {
            List<T> chunk = items.subList(b[0], b[1]);
            if (chunk.size() == 1) {
                out.add(forward.apply(List.of(chunk.get(0), chunk.get(0))).get(0));
            } else {
                out.addAll(forward.apply(chunk));
            }
            done.accept(out.size());
        }
        return out;
    }

    /**
     * Whether a full batch of the {@code probe} items (MAX of them) gives each item the bits it gets beside a copy
     * of itself, and a batch of two in reversed order the same again: the property {@link #run} relies on,
     * checked on the loaded model and this machine's libtorch.
     */
    static <T> boolean invariant(List<T> probe, Function<List<T>, List<float[]>> forward) {
        if (probe.size() != MAX) {
            throw new IllegalArgumentException("the probe needs " + MAX + " items, got " + probe.size());
        }
        List<float[]> full = forward.apply(probe);
        for (int i : new int[] {0, MAX / 2, MAX - 1}) {
            if (!Arrays.equals(full.get(i), forward.apply(List.of(probe.get(i), probe.get(i))).get(0))) {
                return false;
            }
        }
        List<float[]> two = forward.apply(List.of(probe.get(MAX - 1), probe.get(0)));
        return Arrays.equals(full.get(MAX - 1), two.get(0)) && Arrays.equals(full.get(0), two.get(1));
    }

    private static List<int[]> singles(int n) {
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new int[] {i, i + 1});
        }
        return out;
    }
}
