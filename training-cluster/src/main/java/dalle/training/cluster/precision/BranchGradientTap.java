package dalle.training.cluster.precision;

import ai.djl.ndarray.NDArray;

/**
 * Sees (and may replace) the scaled gradient about to enter a resblock's branch during
 * {@link MixedPrecisionPrior}'s backward pass: fault injection (an overflow in one resblock) and
 * instrumentation. The returned array must have the input's shape.
 */
@FunctionalInterface
public interface BranchGradientTap {

    /** Passes every gradient through unchanged. */
    BranchGradientTap NONE = (resblock, gradient) -> gradient;

    /**
     * @param resblock the branch's index, see {@link MixedPrecisionPrior#resblockNames()}
     * @param gradient the gradient of the loss with respect to the branch's output times the branch's scale,
     *                 (B, N, C), in the compute format
     */
    NDArray apply(int resblock, NDArray gradient);
}
