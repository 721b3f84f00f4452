package dalle.training.cluster.powersgd;

import java.util.List;

/**
 * An averaging algorithm over flat fp32 gradients: how one worker's list of gradients becomes the
 * group's (approximate) mean, exactly ({@link ExactAveraging}) or with fewer bytes ({@link PowerSgd}).
 * It owns the arithmetic and the per-worker state (error buffers, Q) but no transport: the one
 * collective it needs comes in as a {@link MeanReducer}.
 *
 * <p>Two callers: {@link SimulatedDataParallel}, where W simulated workers of one process average
 * through {@link LocalMeanReducers} (the {@code dalle bench powersgd} comparison), and the distributed
 * trainer's {@code ShardPowerSgd} (a {@code dalle.training.cluster.train.ReplicaExchange}), which runs
 * PowerSGD on each worker's shard over the replica group's collectives.
 *
 * <p>Each worker owns one instance and calls {@link #exchange} once per update, all workers with the
 * same tensors in the same order.
 */
public interface GradientAveraging {

    /**
     * Replaces each gradient in {@code gradients} (flat, row-major, in the order of the specs the
     * averaging was made for) in place by the group's (approximate) mean.
     */
    ExchangeStats exchange(List<float[]> gradients, MeanReducer reducer);
}
