package dalle.core.train;

/**
 * A learning rate that rises linearly to {@code peak} over the first {@code warmupFraction} of the
 * run, then follows a half cosine down to {@code endFactor · peak} at the last update.
 *
 * <p>Scaling to the step budget: the warm-up is a fraction of the run, at least one update. The
 * paper warms the prior up over 5 000 of its 3 M updates and then halves the rate whenever the
 * loss plateaus; a run with a fixed, small budget has no room to detect plateaus, so the decay
 * here is the cosine that CLIP uses, and the warm-up is 5% of the run by default (1/600 of a few
 * thousand updates would be a handful).
 *
 * <pre>
 *   w = max(1, round(warmupFraction · totalSteps))
 *   lr(s) = peak · (s + 1) / w                                             s &lt; w
 *   lr(s) = peak · (e + (1 − e) · (1 + cos(π · (s − w) / max(1, N − 1 − w))) / 2)   s ≥ w
 * </pre>
 *
 * @param peak the largest learning rate
 * @param warmupFraction fraction of the run spent warming up, in [0, 1)
 * @param endFactor the last update's rate as a fraction of {@code peak}, in [0, 1]
 */
public record WarmupCosine(float peak, double warmupFraction, float endFactor) {

    /** Fraction of the run spent warming up unless told otherwise. */
    public static final double DEFAULT_WARMUP = 0.05;

    public WarmupCosine {
        if (!(peak > 0)) {
            throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        }
        if (!(warmupFraction >= 0 && warmupFraction < 1)) {
            throw new IllegalArgumentException("warm-up fraction must be in [0, 1), got " + warmupFraction);
        }
        if (!(endFactor >= 0 && endFactor <= 1)) {
            throw new IllegalArgumentException("end factor must be in [0, 1], got " + endFactor);
        }
    }

    /** The learning rate of update {@code step} (0-based) of a {@code totalSteps}-update run. */
    public float at(long step, long totalSteps) {
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        long warmup = Math.max(1, Math.round(warmupFraction * totalSteps));
        if (step < warmup) {
            return (float) ((double) peak * (step + 1) / warmup);
        }
        double t = Math.min(1.0, (double) (step - warmup) / Math.max(1, totalSteps - 1 - warmup));
        return (float) (peak * (endFactor + (1.0 - endFactor) * (1 + Math.cos(Math.PI * t)) / 2));
    }
}
