package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Per-request decoding state of the prior: for every layer the keys (stored transposed,
 * (B, H, C/H, S)) and values ((B, H, S, C/H)) of the S = {@link #length()} positions decoded so
 * far, and with S the next input position.
 *
 * <p>The model keeps none of this: one cache per decoding run, used by one thread, closed when the
 * run ends. Its buffers live on a sub-manager of the manager given at construction.
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
     * Writes transposed keys {@code kT} (B, H, C/H, n) and values {@code v} (B, H, n, C/H) of
     * {@code layer} after the S positions held; returns views of all S + n positions,
     * (B, H, C/H, S + n) and (B, H, S + n, C/H), attached to {@code v}'s manager (the caller's step).
     *
     * <p>The buffers are allocated once, at {@link #capacity()}, on the first append: a step writes
     * its slice in place instead of copying the whole cache.
     */
    NDArray[] append(int layer, NDArray kT, NDArray v) {
        Shape ks = kT.getShape();
        Shape vs = v.getShape();
        long n = vs.get(2);
        if (keys[layer] == null) {
            keys[layer] = manager.zeros(new Shape(ks.get(0), ks.get(1), ks.get(2), capacity), kT.getDataType());
            values[layer] = manager.zeros(new Shape(vs.get(0), vs.get(1), capacity, vs.get(3)), v.getDataType());
        } else if (keys[layer].getShape().get(0) != ks.get(0)) {
            throw new IllegalArgumentException("KvCache holds batch " + keys[layer].getShape().get(0)
                    + ", not " + ks.get(0));
        }
        long end = length + n;
        keys[layer].set(new NDIndex(":, :, :, {}:{}", length, end), kT);   // (B, H, D, n) into (B, H, D, capacity)
        values[layer].set(new NDIndex(":, :, {}:{}, :", length, end), v);  // (B, H, n, D) into (B, H, capacity, D)
        NDManager scratch = v.getManager();
        return new NDArray[] {
            keys[layer].get(scratch, new NDIndex(":, :, :, :{}", end)),    // (B, H, D, S + n)
            values[layer].get(scratch, new NDIndex(":, :, :{}, :", end)),  // (B, H, S + n, D)
        };
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
