package dalle.training.cluster.powersgd;

import java.util.List;

/**
 * Averages one worker's gradients with the other workers' of its group: exactly
 * ({@link ExactAveraging}) or approximately with fewer bytes ({@link PowerSgd}). Each worker owns
 * one instance (it may hold per-worker state such as error buffers) and calls {@link #exchange}
 * once per update, all workers with the same tensors in the same order.
 */
public interface GradientExchange {

    /**
     * Replaces each gradient in {@code gradients} (flat, row-major, in the order of the specs the
     * exchange was made for) in place by the group's (approximate) mean.
     */
    ExchangeStats exchange(List<float[]> gradients, MeanReducer reducer);
}
