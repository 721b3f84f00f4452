package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.train.PriorTask;
import dalle.core.train.StepLoss;
import dalle.core.transformer.DallePrior;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The arithmetic of one worker's forward and backward (PAPER.md, "Mixed precision"). The trainer
 * {@linkplain #bind binds} the policy to its model and groups once, then each update calls
 * {@link #gather}, {@link #lossAndBackward} (by default: {@link PriorTask#loss} and one backward pass
 * in one gradient collector) and {@link #unscale} on the reduced shard gradients before clipping; a
 * policy with gradient scales returns them from {@link #state()} so that checkpoints keep them.
 * {@link #FP32}, {@link Bf16Emulated} ({@code bf16}) and {@link Fp16} ({@code fp16}, the paper's
 * per-resblock scaling) are wired in.
 */
public interface PrecisionPolicy {

    /** Everything in float32, no scaling. */
    PrecisionPolicy FP32 = new PrecisionPolicy() {
        @Override
        public String name() {
            return "fp32";
        }

        @Override
        public boolean unscale(List<ShardView> shards) {
            return true;
        }

        @Override
        public boolean skipsNonFiniteUpdates() {
            return false;
        }
    };

    /** {@code fp32}, {@code fp16}, {@code bf16}. */
    String name();

    /**
     * Whether an update with a non-finite loss or gradient is skipped (the paper's rule for reduced
     * precision, where a gradient scale that grew too large makes overflows expected) rather than
     * stopping the run with a {@link dalle.core.train.NonFiniteUpdateException} (fp32, where it is a defect).
     */
    default boolean skipsNonFiniteUpdates() {
        return true;
    }

    /**
     * One worker's losses of one update (nats per token, this worker's slice of the batch).
     *
     * @param total the loss that was back-propagated
     * @param text  its caption part
     * @param image its image part
     */
    record Losses(float total, float text, float image) {
    }

    /**
     * Ties the policy to the worker's model (its parameters are the gathered fp32 arrays) and groups.
     * The trainer calls it once, after sharding and before restoring a checkpoint. Nothing by default.
     */
    default void bind(DallePrior model, Groups groups) {
    }

    /**
     * This worker's forward and backward at {@code position} of the shuffled stream: afterwards every
     * gathered parameter holds this worker's true (unscaled) fp32 gradient. The default opens one
     * gradient collector, takes {@link PriorTask#loss} and back-propagates it; a policy that must
     * run the pass itself (fp16's blockwise backward) overrides it and uses {@link PriorTask#batch} for
     * the same data. The caller holds the JVM's autograd lock; temporaries go to {@code scope}.
     */
    default Losses lossAndBackward(PriorTask task, long position, long totalSteps, NDManager scope,
                                   SplittableRandom rng) {
        try (GradientCollector gc = scope.getEngine().newGradientCollector()) {
            StepLoss loss = task.loss(position, totalSteps, scope, rng);
            gc.backward(loss.total());
            return new Losses(loss.total().getFloat(), loss.parts().get("text").getFloat(),
                    loss.parts().get("image").getFloat());
        }
    }

    /**
     * All-gathers the parameters for this update's forward (collective in the shard group). A policy
     * with low-precision compute gathers rounded copies; the shard values stay the fp32 masters.
     */
    default void gather(ShardedParameters sharded, List<ShardView> shards) {
        sharded.gatherAll();
    }

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
     * @throws IllegalArgumentException for unknown names
     */
    static PrecisionPolicy named(String name) {
        return switch (name) {
            case "fp32" -> FP32;
            case "bf16" -> new Bf16Emulated();
            case "fp16" -> new Fp16();
            default -> throw new IllegalArgumentException("--precision must be fp32, fp16 or bf16, got '" + name + "'");
        };
    }
}
