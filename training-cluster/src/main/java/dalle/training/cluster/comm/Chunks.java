package dalle.training.cluster.comm;

/**
 * How a buffer of n elements is cut among w ranks: contiguous chunks whose sizes differ by at
 * most one, the first {@code n % w} chunks one longer. Chunk i starts at
 * {@code i·⌊n/w⌋ + min(i, n % w)}. Chunks may be empty when n < w.
 */
public final class Chunks {

    private Chunks() {}

    /** First element of chunk {@code i}. */
    public static int start(int n, int w, int i) {
        check(n, w, i);
        return i * (n / w) + Math.min(i, n % w);
    }

    /** Number of elements of chunk {@code i}. */
    public static int size(int n, int w, int i) {
        check(n, w, i);
        return n / w + (i < n % w ? 1 : 0);
    }

    private static void check(int n, int w, int i) {
        if (n < 0 || w < 1 || i < 0 || i >= w) {
            throw new IllegalArgumentException("no chunk " + i + " of " + n + " elements among " + w + " ranks");
        }
    }
}
