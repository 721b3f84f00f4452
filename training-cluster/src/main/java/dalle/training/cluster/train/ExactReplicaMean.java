package dalle.training.cluster.train;

import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;

/**
 * {@link ReplicaExchange#exactMean}: every shard gradient of this worker, concatenated, all-reduced as
 * the mean over the replica group in one collective, then copied back. Nothing is sent when there is
 * one group. No state.
 */
final class ExactReplicaMean implements ReplicaExchange {

    private final Collectives replicas;
    private long bytes;

    ExactReplicaMean(Collectives replicas) {
        this.replicas = replicas;
    }

    @Override
    public String name() {
        return "exact";
    }

    @Override
    public long sentBytes() {
        return bytes;
    }

    @Override
    public long denseBytes() {
        return bytes;
    }

    @Override
    public void exchange(List<ShardView> shards) {
        if (replicas.worldSize() == 1) {
            return;
        }
        int n = shards.stream().mapToInt(s -> s.grad().length).sum();
        float[] all = new float[n];
        int at = 0;
        for (ShardView s : shards) {
            System.arraycopy(s.grad(), 0, all, at, s.grad().length);
            at += s.grad().length;
        }
        replicas.allReduceMean(all);
        bytes += 4L * n;
        at = 0;
        for (ShardView s : shards) {
            System.arraycopy(all, at, s.grad(), 0, s.grad().length);
            at += s.grad().length;
        }
    }
}
