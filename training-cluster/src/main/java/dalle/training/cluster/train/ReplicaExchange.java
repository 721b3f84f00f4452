package dalle.training.cluster.train;

import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;
import java.util.Map;

/**
 * How the replicas of a shard — the workers holding the same shard in the other groups ("machines")
 * — agree on its gradient in real distributed training (PAPER.md, "Distributed optimisation"). Called
 * by the {@link DistributedTrainer} once per update, after the reduce-scatter inside the group and
 * before clipping and AdamW; collective over the replica group (every member calls it with shards of
 * the same names and lengths).
 *
 * <p>The default, {@link #exactMean} ({@link ExactReplicaMean}), all-reduces the mean. PowerSGD
 * ({@link ShardPowerSgd}, over the {@link dalle.training.cluster.powersgd.GradientAveraging} algorithm)
 * implements this interface with error feedback: its error buffers are returned by {@link #state()}
 * so that checkpoints keep them.
 */
public interface ReplicaExchange {

    /** A short name for logs and the checkpoint manifest ({@code exact}, {@code powersgd-r8}...). */
    String name();

    /** Replaces every {@link ShardView#grad()} in place by the (approximate) mean over the replica group. */
    void exchange(List<ShardView> shards);

    /** fp32 payload bytes this worker has all-reduced between groups so far (0 when there is one group). */
    default long sentBytes() {
        return 0;
    }

    /** Bytes the exact mean of the same gradients would have all-reduced so far (equals {@link #sentBytes()} for it). */
    default long denseBytes() {
        return 0;
    }

    /** State that a resumed run needs (error buffers...), by name; live arrays or copies. Empty by default. */
    default Map<String, float[]> state() {
        return Map.of();
    }

    /**
     * Puts back what {@link #state()} returned at checkpoint time.
     *
     * @throws IllegalArgumentException naming the missing or mis-sized entry
     */
    default void restore(Map<String, float[]> state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException(name() + " keeps no state, but the checkpoint holds " + state.keySet());
        }
    }

    /** The exact mean over {@code replicas}: one all-reduce of every shard gradient concatenated. */
    static ReplicaExchange exactMean(Collectives replicas) {
        return new ExactReplicaMean(replicas);
    }
}
