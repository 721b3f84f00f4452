package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Per-request decoding state of the prior: for every layer the keys (stored transposed,
 * (B, H, C/H, S)) and values ((B, H, S, C/H)) of the S = {@link #length()} positions decoded so
 * far, and with S the next input position.
 *
 * <p>The model keeps none of this: one cache per decoding run, used by one thread, closed when the
 * run ends. Its arrays live on a sub-manager of the manager given at construction; appending
 * replaces (and frees) the previous arrays.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private int length;

    /**
     * @param parent   manager the cache's own sub-manager is created under
     * @param layers   number of transformer blocks
     * @param capacity most positions the cache may hold (the model's input length)
     */
    public KvCache(NDManager parent, int layers, int capacity) {
        if (layers < 1 || capacity < 1) {
            throw new IllegalArgumentException("KvCache needs layers >= 1 and capacity >= 1, got " + layers + ", " + capacity);
        }
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.capacity = capacity;
    }

    /** Positions held so far; the next forward starts at this input position. */
    public int length() {
        return length;
    }

    /** Most positions this cache may hold. */
    public int capacity() {
        return capacity;
    }

    /** Checks that {@code count} more positions fit. */
    void checkRoom(int count) {
        if (length + count > capacity) {
            throw new IllegalStateException("KvCache holds " + length + " of " + capacity
                    + " positions; cannot add " + count);
        }
    }

    /**
     * Appends transposed keys {@code kT} (B, H, C/H, n) and values {@code v} (B, H, n, C/H) of
     * {@code layer}; returns those of all positions, (B, H, C/H, S + n) and (B, H, S + n, C/H).
     * The returned arrays belong to the cache.
     */
    NDArray[] append(int layer, NDArray kT, NDArray v) {
        keys[layer] = grow(keys[layer], kT, 3);   // (B, H, D, S) ++ (B, H, D, n) -> (B, H, D, S + n)
        values[layer] = grow(values[layer], v, 2); // (B, H, S, D) ++ (B, H, n, D) -> (B, H, S + n, D)
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray grow(NDArray old, NDArray added, int axis) {
        NDArray next;
        if (old == null) {
            next = added.duplicate(); // a copy, not a view into the step's fused projection
        } else {
            next = old.concat(added, axis);
            old.close();
        }
        next.attach(manager);
        return next;
    }

    /** Marks {@code count} positions as appended in every layer. */
    void advance(int count) {
        length += count;
    }

    @Override
    public void close() {
        manager.close();
    }
}
