package dalle.core.train;

/**
 * The optimiser of one model: AdamW's constants, the gradient-norm clip and the weight EMA.
 *
 * @param beta1 AdamW's first-moment decay
 * @param beta2 AdamW's second-moment decay
 * @param eps AdamW's epsilon
 * @param weightDecay decoupled weight decay (applied to weights only, see {@code Parameter.Kind.decayed})
 * @param gradClip the largest global L2 norm of the gradient; larger gradients are scaled down to it;
 *     0 turns clipping off
 * @param emaDecay decay of the exponential moving average of the weights kept beside the model (and
 *     saved as the final model); 0 keeps no average
 */
public record OptimizerSettings(float beta1, float beta2, float eps, float weightDecay, float gradClip,
                                float emaDecay) {

    public OptimizerSettings {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("AdamW eps must be positive, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be non-negative, got " + weightDecay);
        }
        if (!(gradClip >= 0)) {
            throw new IllegalArgumentException("gradient clip must be non-negative (0 = off), got " + gradClip);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1) (0 = off), got " + emaDecay);
        }
    }

    /** The paper's dVAE: AdamW (0.9, 0.999, 1e-8, wd 1e-4), no clipping, weight EMA 0.999. */
    public static OptimizerSettings dvaePaper() {
        return new OptimizerSettings(0.9f, 0.999f, 1e-8f, 1e-4f, 0f, 0.999f);
    }

    /** The paper's prior: AdamW (0.9, 0.96, 1e-8, wd 4.5e-2), gradient-norm clip 4, weight EMA 0.99. */
    public static OptimizerSettings priorPaper() {
        return new OptimizerSettings(0.9f, 0.96f, 1e-8f, 4.5e-2f, 4f, 0.99f);
    }

    /** CLIP's (Radford et al. 2021): AdamW (0.9, 0.98, 1e-6, wd 0.2), no clipping, no EMA. */
    public static OptimizerSettings clipPaper() {
        return new OptimizerSettings(0.9f, 0.98f, 1e-6f, 0.2f, 0f, 0f);
    }

    /**
     * These settings for a run of {@code totalSteps} updates: an EMA decay capped at
     * {@code 1 − 10 / totalSteps} (off below 10 updates), so that the initial weights' share of the
     * final average, about {@code decay^totalSteps ≤ e^−10}, is negligible. The paper's decays (0.999 over
     * 3 M updates, 0.99) stay as they are from 10 000 and 1 000 updates on.
     */
    public OptimizerSettings forBudget(long totalSteps) {
        if (emaDecay == 0) {
            return this;
        }
        float cap = (float) Math.max(0.0, 1.0 - 10.0 / totalSteps);
        return withEmaDecay(Math.min(emaDecay, cap));
    }

    /** The same settings with another EMA decay (0 = off). */
    public OptimizerSettings withEmaDecay(float decay) {
        return new OptimizerSettings(beta1, beta2, eps, weightDecay, gradClip, decay);
    }
}
