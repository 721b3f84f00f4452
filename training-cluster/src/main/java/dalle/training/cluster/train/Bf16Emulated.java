package dalle.training.cluster.train;

import dalle.training.cluster.precision.Bf16;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --precision bf16} in the {@link DistributedTrainer}, emulated on fp32 storage ({@link Bf16}:
 * DJL aborts the JVM on a real {@code BFLOAT16} array on CPU, TOOLCHAIN.md). Following the paper's
 * split (PAPER.md, "Mixed precision"), the resblock matrices ({@link Parameter.Kind#WEIGHT}) are
 * low precision and everything else stays fp32:
 * <pre>
 *   gather    the forward sees WEIGHT parameters rounded to bf16; the sharded masters stay fp32
 *   backward  plain fp32 autograd through the rounded weights (no loss scale: bf16 has fp32's range)
 *   unscale   WEIGHT gradients rounded to bf16 after the group reduction and the exchange; false
 *             (skip the update) when any gradient is not finite
 *   step      AdamW on the fp32 masters, fp32 moments
 * </pre>
 * Limits of the emulation: activations and the arithmetic inside the forward and backward stay fp32
 * (the model is not touched), and gradients are rounded once, where the optimizer reads them, rather
 * than at every reduction. Gains, biases, embeddings and the unembedding are never rounded. No state.
 */
public final class Bf16Emulated implements PrecisionPolicy {

    @Override
    public String name() {
        return "bf16";
    }

    /** All-gathers bf16-rounded copies of the WEIGHT shards; the shard values (fp32 masters) are put back. */
    @Override
    public void gather(ShardedParameters sharded, List<ShardView> shards) {
        List<float[]> masters = new ArrayList<>(shards.size());
        for (ShardView s : shards) {
            if (rounded(s)) {
                masters.add(s.value().clone());
                Bf16.roundInPlace(s.value());
            } else {
                masters.add(null);
            }
        }
        try {
            sharded.gatherAll();
        } finally {
            for (int k = 0; k < shards.size(); k++) {
                if (masters.get(k) != null) {
                    System.arraycopy(masters.get(k), 0, shards.get(k).value(), 0, masters.get(k).length);
                }
            }
        }
    }

    @Override
    public boolean unscale(List<ShardView> shards) {
        boolean finite = true;
        for (ShardView s : shards) {
            float[] g = s.grad();
            boolean round = rounded(s);
            for (int i = 0; i < g.length; i++) {
                if (round) {
                    g[i] = Bf16.round(g[i]);
                }
                finite &= Float.isFinite(g[i]);
            }
        }
        return finite;
    }

    private static boolean rounded(ShardView s) {
        return s.kind() == Parameter.Kind.WEIGHT;
    }
}
