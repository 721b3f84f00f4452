package dalle.core.sampling;

import java.util.SplittableRandom;

/**
 * Picks one token id from a row of logits (llama3.java's {@code Sampler}). Implementations never
 * modify {@code logits} and take all their randomness from {@code rng}, so the same logits and the
 * same generator state give the same token.
 */
@FunctionalInterface
public interface Sampler {

    /**
     * @param logits unnormalised log-probabilities, one per token id; −∞ excludes a token
     * @param rng    the candidate's own generator; advanced by at most one draw
     * @return a token id in [0, logits.length)
     */
    int sample(float[] logits, SplittableRandom rng);
}
