package dalle.training.cluster.train;

import dalle.core.train.GradientClipping;
import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;

/**
 * The paper's global gradient-norm clip on sharded gradients. Each shard group holds the whole
 * (group-reduced, exchanged) gradient exactly once, so the global norm is one all-reduce of each
 * worker's sum of squares inside its shard group; the clip itself is core's rule,
 * {@link GradientClipping#factor}, applied to every shard in place.
 */
final class ShardClipping {

    private ShardClipping() {}

    /** L2 norm of the whole gradient (collective over {@code shardGroup}); NaN or infinite when a value is not finite. */
    static double globalNorm(List<ShardView> shards, Collectives shardGroup) {
        double local = 0;
        for (ShardView v : shards) {
            for (float g : v.grad()) {
                local += (double) g * g;
            }
        }
        float[] sum = {(float) local};
        shardGroup.allReduceSum(sum);
        return Math.sqrt(sum[0]);
    }

    /** Scales every shard gradient by {@link GradientClipping#factor}{@code (norm, max)} when that clips. */
    static void clip(List<ShardView> shards, double norm, float max) {
        float scale = GradientClipping.factor(norm, max);
        if (scale == 1f) {
            return;
        }
        for (ShardView v : shards) {
            float[] g = v.grad();
            for (int i = 0; i < g.length; i++) {
                g[i] *= scale;
            }
        }
    }
}
