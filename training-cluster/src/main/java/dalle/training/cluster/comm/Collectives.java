package dalle.training.cluster.comm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Collective operations among the workers of one group, on flat float32 data.
 *
 * <p><b>Data.</b> The core API works on {@code float[]} (at most 2³¹−1 elements, 8 GiB); the
 * NDArray methods are conveniences that copy to and from the host. Every member of a group must
 * call the same collectives in the same order with the same lengths; a mismatch is reported as an
 * error naming the peer where the transport can see it.
 *
 * <p><b>Chunks.</b> A buffer of length n is cut into {@code worldSize()} contiguous chunks by
 * {@link Chunks} (sizes differ by at most one, the longer ones first). Rank i owns chunk i:
 * {@link #reduceScatter} returns it and {@link #allGather} takes it.
 *
 * <p><b>Determinism.</b> Every implementation runs the same ring schedule (reduce-scatter, then
 * all-gather; rank i sends to rank i+1): chunk c is summed as the left fold
 * {@code ((x[c+1] + x[c+2]) + …) + x[c]} over ranks in ring order, modulo the world size. The result
 * is therefore identical, bit for bit, on every rank and between implementations (threads or TCP),
 * and does not depend on timing. It is not the naive {@code x[0] + x[1] + …} order.
 *
 * <p><b>Groups.</b> {@link #split} makes sub-groups (a sharding group inside a machine, a replica
 * group across machines); see {@link Groups}. Closing the world group closes its sub-groups' transport.
 */
public interface Collectives extends AutoCloseable {

    /** This worker's index in the group, in [0, worldSize). */
    int rank();

    /** Number of workers in the group. */
    int worldSize();

    /** Element-wise sum over the group, in place; every rank ends with the same bits. */
    void allReduceSum(float[] data);

    /** Element-wise mean over the group (the ring sum divided by worldSize), in place. */
    default void allReduceMean(float[] data) {
        allReduceSum(data);
        int w = worldSize();
        if (w > 1) {
            for (int i = 0; i < data.length; i++) {
                data[i] /= w;
            }
        }
    }

    /**
     * Sums {@code data} over the group and returns this rank's chunk of the sum
     * ({@link Chunks#size}(data.length, worldSize, rank) elements). {@code data} is not modified.
     */
    float[] reduceScatter(float[] data);

    /**
     * Concatenates every rank's chunk: {@code shard} must have {@link Chunks#size}(totalLength,
     * worldSize, rank) elements; returns the {@code totalLength} elements, chunk i from rank i.
     */
    float[] allGather(float[] shard, int totalLength);

    /** Copies {@code root}'s data into every rank's {@code data}, in place (same length on all ranks). */
    void broadcast(float[] data, int root);

    /** Returns once every member of the group has called it. */
    void barrier();

    /**
     * Partitions this group: members with the same {@code color} (≥ 0) form a new group, ranked by
     * {@code key} then by their rank here. Collective: every member must call it.
     *
     * @param color group selector, in [0, 2²⁴]
     * @param key   order inside the new group, in [0, 2²⁴]
     */
    Collectives split(int color, int key);

    /** Releases the transport (sockets, threads). Idempotent. */
    @Override
    void close();

    // ---- NDArray conveniences: host copies, result on the input's manager, dtype kept ----

    /** Sum over the group of an array of any float dtype (reduced in float32); a new array, same shape and dtype. */
    default NDArray allReduceSum(NDArray array) {
        float[] data = hostFloats(array);
        allReduceSum(data);
        return array.getManager().create(data, array.getShape()).toType(array.getDataType(), false);
    }

    /** Mean over the group; a new array, same shape and dtype. */
    default NDArray allReduceMean(NDArray array) {
        float[] data = hostFloats(array);
        allReduceMean(data);
        return array.getManager().create(data, array.getShape()).toType(array.getDataType(), false);
    }

    /** {@link #broadcast(float[], int)} of an array; a new array, same shape and dtype. */
    default NDArray broadcast(NDArray array, int root) {
        float[] data = hostFloats(array);
        broadcast(data, root);
        return array.getManager().create(data, array.getShape()).toType(array.getDataType(), false);
    }

    private static float[] hostFloats(NDArray array) {
        DataType t = array.getDataType();
        if (!t.isFloating()) {
            throw new IllegalArgumentException("collectives reduce floating arrays, got " + t);
        }
        return t == DataType.FLOAT32 ? array.toFloatArray() : array.toType(DataType.FLOAT32, true).toFloatArray();
    }
}
