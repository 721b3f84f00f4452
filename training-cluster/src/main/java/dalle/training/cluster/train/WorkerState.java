package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.core.train.PriorTask;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;

/**
 * What one worker of a distributed run holds, wired once by {@link DistributedTrainer.Builder}: the
 * task (model, data, schedule) on its own manager, the model's shards with their AdamW state, the
 * weight average, the exchange between groups and the precision policy. The update step, the
 * checkpoints and the final model all work on this one state.
 *
 * @param views the live shard arrays of {@code sharded}, in parameter order
 */
record WorkerState(NDManager manager, PriorTask task, ShardedParameters sharded, List<ShardView> views,
                   ShardedEma ema, ReplicaExchange exchange, PrecisionPolicy precision) implements AutoCloseable {

    @Override
    public void close() {
        try {
            task.close();
        } finally {
            manager.close();
        }
    }
}
