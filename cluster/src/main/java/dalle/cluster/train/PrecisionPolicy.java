package dalle.cluster.train;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import dalle.cluster.shard.ShardedParameters;
import dalle.cluster.shard.ShardedParameters.ShardView;
import java.util.List;
import java.util.Map;

/**
 * The arithmetic of one worker's forward and backward (PAPER.md, "Mixed precision"). The trainer
 * calls {@link #backward} inside its gradient collector and {@link #unscale} on the reduced shard
 * gradients before clipping; a policy with gradient scales returns them from {@link #state()} so
 * that checkpoints keep them. {@link #FP32} and {@link Bf16Emulated} ({@code bf16}) are wired in;
 * fp16 with the paper's per-resblock scaling ({@code dalle.cluster.precision.MixedPrecisionPrior}) is not yet.
 */
public interface PrecisionPolicy {

    /** Everything in float32, no scaling. */
    PrecisionPolicy FP32 = new PrecisionPolicy() {
        @Override
        public String name() {
            return "fp32";
        }

        @Override
        public void backward(GradientCollector collector, NDArray loss) {
            collector.backward(loss);
        }

        @Override
        public boolean unscale(List<ShardView> shards) {
            return true;
        }
    };

    /** {@code fp32}, {@code fp16}, {@code bf16}. */
    String name();

    /**
     * All-gathers the parameters for this update's forward (collective in the shard group). A policy
     * with low-precision compute gathers rounded copies; the shard values stay the fp32 masters.
     */
    default void gather(ShardedParameters sharded, List<ShardView> shards) {
        sharded.gatherAll();
    }

    /** Back-propagates this worker's loss (a scaled policy multiplies it, or cuts the graph per block). */
    void backward(GradientCollector collector, NDArray loss);

    /**
     * Divides the reduced shard gradients by their scales, in place, and adapts the scales.
     *
     * @return false when the gradients overflowed and the update must be skipped
     */
    boolean unscale(List<ShardView> shards);

    /** Gradient scales and counters for checkpoints; empty by default. */
    default Map<String, float[]> state() {
        return Map.of();
    }

    /** Puts back what {@link #state()} returned; a policy without state refuses a non-empty map. */
    default void restore(Map<String, float[]> state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException(name() + " keeps no state, but the checkpoint holds " + state.keySet());
        }
    }

    /**
     * The policy named on the command line.
     *
     * @throws IllegalArgumentException for fp16 (not wired into this trainer yet) and unknown names
     */
    static PrecisionPolicy named(String name) {
        return switch (name) {
            case "fp32" -> FP32;
            case "bf16" -> new Bf16Emulated();
            case "fp16" -> throw new IllegalArgumentException("--precision fp16 is not wired into the distributed"
                    + " trainer yet (fp32 or bf16); its per-resblock scaling lives in dalle.cluster.precision");
            default -> throw new IllegalArgumentException("--precision must be fp32, fp16 or bf16, got '" + name + "'");
        };
    }
}
