package dalle.core.dvae;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/**
 * The dVAE's pixel model (PAPER.md "Stage 1"): pixels are mapped into (ε, 1 − ε) and modelled
 * by the logit-Laplace distribution
 *
 * <pre>
 *   f(x | μ, b) = exp(−|logit(x) − μ| / b) / (2b · x(1 − x)),   x ∈ (0, 1), b = exp(ln b)
 * </pre>
 *
 * i.e. logit(x) is Laplace(μ, b), with the Jacobian of the logit. Its mean image is taken as
 * sigmoid(μ), mapped back with {@link #unmapPixels}.
 */
public final class LogitLaplace {

    /** The margin ε = 0.1 that keeps mapped pixels away from 0 and 1, where logit(x) diverges. */
    public static final float EPSILON = 0.1f;

    private static final float LN_2 = (float) Math.log(2.0);

    private LogitLaplace() {}

    /** x ↦ (1 − 2ε)x + ε: [0, 1] to [ε, 1 − ε], elementwise, any shape and float dtype. */
    public static NDArray mapPixels(NDArray x01) {
        return Scalars.mul(x01, 1f - 2f * EPSILON).add(EPSILON);
    }

    /** The inverse of {@link #mapPixels}, clamped to [0, 1]: y ↦ clamp((y − ε)/(1 − 2ε), 0, 1). */
    public static NDArray unmapPixels(NDArray mapped) {
        return Scalars.div(mapped.sub(EPSILON), 1f - 2f * EPSILON).clip(0f, 1f);
    }

    /** The image a decoder's μ stands for: clamp((sigmoid(μ) − ε)/(1 − 2ε), 0, 1). */
    public static NDArray meanImage(NDArray mu) {
        return unmapPixels(Activation.sigmoid(mu));
    }

    /**
     * Elementwise negative log-likelihood −ln f(x | μ, b) in nats:
     * {@code |logit(x) − μ| · exp(−ln b) + ln b + ln 2 + ln x + ln(1 − x)}.
     *
     * @param mapped pixels in (0, 1), normally already mapped into [ε, 1 − ε]
     * @param mu location in logit space, same shape as {@code mapped}
     * @param lnB log scale, same shape
     * @return the per-element NLL, same shape (can be negative: it is a density)
     */
    public static NDArray nll(NDArray mapped, NDArray mu, NDArray lnB) {
        NDArray lnX = mapped.log();
        NDArray ln1mX = mapped.neg().add(1f).log();
        NDArray logit = lnX.sub(ln1mX);
        return logit.sub(mu).abs().mul(lnB.neg().exp()).add(lnB).add(LN_2).add(lnX).add(ln1mX);
    }
}
