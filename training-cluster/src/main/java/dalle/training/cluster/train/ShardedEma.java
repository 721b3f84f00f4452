package dalle.training.cluster.train;

import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.ArrayList;
import java.util.List;

/**
 * The exponential moving average of the weights (PAPER.md: 0.99 for the prior), kept per shard: each
 * worker averages only the fp32 master slices it owns, after each applied update,
 * {@code avg ← decay · avg + (1 − decay) · w}.
 *
 * <p>The rule is core's {@link dalle.core.dvae.WeightEma}'s, element for element in float32 (a test
 * checks the two agree bit for bit), but not its class: {@code WeightEma} averages a module's live
 * NDArrays, and between updates the sharded trainer's module holds zero-storage placeholders — the
 * weights exist only as these {@code float[]} shards. A decay of 0 keeps no average (nothing is
 * stored, checkpointed or written).
 */
final class ShardedEma {

    private final float decay;
    private final List<float[]> averages; // one per shard view; empty without an average

    /**
     * Starts the averages at the shards' current values.
     *
     * @param decay in [0, 1); 0 = no average
     */
    ShardedEma(List<ShardView> shards, float decay) {
        if (!(decay >= 0f && decay < 1f)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        this.decay = decay;
        this.averages = new ArrayList<>();
        if (decay > 0) {
            shards.forEach(s -> averages.add(s.value().clone()));
        }
    }

    /** Whether an average is kept. */
    boolean kept() {
        return !averages.isEmpty();
    }

    /** Folds the shards' current values into the averages; call after each applied update. */
    void update(List<ShardView> shards) {
        for (int k = 0; k < averages.size(); k++) {
            float[] avg = averages.get(k);
            float[] value = shards.get(k).value();
            for (int i = 0; i < avg.length; i++) {
                avg[i] = avg[i] * decay + value[i] * (1f - decay);
            }
        }
    }

    /** The live average of shard {@code k} (the order of the views it was built from); only when {@link #kept()}. */
    float[] average(int k) {
        if (!kept()) {
            throw new IllegalStateException("this run keeps no weight average");
        }
        return averages.get(k);
    }
}
