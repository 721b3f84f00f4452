package dalle.core.dvae;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;

/**
 * The relaxation the dVAE is trained through (PAPER.md "Stage 1"), and the KL term of its ELB.
 *
 * <p>The code axis is axis 1 throughout: logits are {@code (B, K, G, G)}.
 */
public final class GumbelSoftmax {

    private static final float TWO_POW_MINUS_23 = 0x1.0p-23f;

    private GumbelSoftmax() {}

    /**
     * A relaxed one-hot sample: softmax((logits + g) / τ) over axis 1, with g standard Gumbel noise
     * −ln(−ln u), u ~ U(0, 1) drawn from {@code rng} (open interval, so g is always finite).
     *
     * @param logits (B, K, ...) unnormalised log-probabilities
     * @param tau temperature τ > 0; as τ → 0 the sample approaches a one-hot
     * @return same shape and dtype as {@code logits}, summing to 1 over axis 1
     */
    public static NDArray sample(NDArray logits, float tau, SplittableRandom rng) {
        if (!(tau > 0f)) {
            throw new IllegalArgumentException("Gumbel-softmax temperature must be positive, got " + tau);
        }
        NDArray g = uniform(logits.getManager(), logits, rng).log().neg().log().neg();
        return Scalars.div(logits.add(g), tau).softmax(1);
    }

    /**
     * U(0, 1) noise shaped and typed like {@code like}: (k + ½)·2⁻²³ for k uniform in [0, 2²³), so every
     * value is an exact float in [2⁻²⁴, 1 − 2⁻²⁴] (with 24 bits, k + ½ rounds up to 2²⁴ and gives u = 1,
     * an infinite Gumbel draw and a NaN softmax).
     */
    private static NDArray uniform(NDManager manager, NDArray like, SplittableRandom rng) {
        float[] u = new float[Math.toIntExact(like.size())];
        for (int i = 0; i < u.length; i++) {
            u[i] = ((rng.nextInt() >>> 9) + 0.5f) * TWO_POW_MINUS_23;
        }
        return manager.create(u, like.getShape()).toType(like.getDataType(), false);
    }

    /**
     * KL(q ‖ uniform) = Σ q · ln(q · K) with q = softmax(logits) over axis 1, summed over the code
     * axis and every grid position, per batch element.
     *
     * @param logits (B, K, G, G)
     * @return (B) KL in nats of each image's posterior to the uniform prior over the K^(G·G) grids
     */
    public static NDArray klToUniform(NDArray logits) {
        long k = logits.getShape().get(1);
        NDArray logQ = logits.logSoftmax(1);
        // (B, K, G, G) -> (B, K·G·G)
        NDArray perElement = logQ.exp().mul(logQ.add((float) Math.log(k)));
        return perElement.reshape(logits.getShape().get(0), -1).sum(new int[] {1});
    }

    /**
     * How far the batch's average code distribution is from using every code equally:
     * {@code ln K − H(q̄)}, with {@code q̄ = mean over batch and grid positions of softmax(logits)}.
     * 0 when the codes are used uniformly on average, {@code ln K} when every position puts all
     * its mass on one and the same code. Not part of the paper's ELB: it is the diversity penalty
     * of wav2vec 2.0 (Baevski et al. 2020), which keeps a Gumbel-softmax codebook from collapsing
     * when most positions look alike (see {@link Dvae#loss(NDArray, float, float, float, SplittableRandom)}).
     *
     * @param logits (B, K, G, G)
     * @return a 0-d array in nats
     */
    public static NDArray codeUsageGap(NDArray logits) {
        long k = logits.getShape().get(1);
        // (B, K, G, G) -> (K, B, G, G) -> (K, B·G·G) -> (K)
        NDArray mean = logits.softmax(1).transpose(1, 0, 2, 3).reshape(k, -1).mean(new int[] {1});
        NDArray entropy = mean.mul(mean.clip(1e-12f, 1f).log()).sum().neg();
        return entropy.neg().add((float) Math.log(k));
    }
}
