package dalle.training.cluster.precision;

/**
 * Standard dynamic loss scaling with one global scale (PAPER.md "Mixed precision", the paper's
 * point of comparison): the loss is multiplied by {@link #scale()} before the backward pass and the
 * gradients divided by it after; an overflow (any non-finite gradient) skips the update and
 * multiplies the scale by the backoff; {@code growthInterval} clean updates in a row multiply it by
 * the growth factor. {@link #standard()} is the paper's comparison setting: start 2^16, ×2 after
 * 2000 clean steps, ×0.5 and skip on overflow.
 *
 * <p>Not thread-safe; one per training process (every data-parallel replica sees the same overflow
 * flag after the gradient all-reduce, so replicas' scalers stay equal).
 */
public final class DynamicLossScaler {

    private final float growthFactor;
    private final float backoffFactor;
    private final int growthInterval;
    private float scale;
    private int cleanStreak;
    private long skipped;

    /**
     * @param initialScale   first scale, finite and positive
     * @param growthFactor   multiplier after {@code growthInterval} clean steps, ≥ 1
     * @param backoffFactor  multiplier on overflow, in (0, 1)
     * @param growthInterval clean steps in a row before growing, ≥ 1
     */
    public DynamicLossScaler(float initialScale, float growthFactor, float backoffFactor, int growthInterval) {
        if (!(initialScale > 0) || Float.isInfinite(initialScale)) {
            throw new IllegalArgumentException("initial loss scale " + initialScale + " must be finite and positive");
        }
        if (!(growthFactor >= 1) || Float.isInfinite(growthFactor)) {
            throw new IllegalArgumentException("growth factor " + growthFactor + " must be finite and at least 1");
        }
        if (!(backoffFactor > 0 && backoffFactor < 1)) {
            throw new IllegalArgumentException("backoff factor " + backoffFactor + " must be in (0, 1)");
        }
        if (growthInterval < 1) {
            throw new IllegalArgumentException("growth interval " + growthInterval + " must be at least 1");
        }
        this.scale = initialScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** Start 2^16, ×2 after 2000 clean steps, ×0.5 and skip on overflow. */
    public static DynamicLossScaler standard() {
        return new DynamicLossScaler(65536f, 2f, 0.5f, 2000);
    }

    /** The factor the loss is multiplied by for the next backward pass. */
    public float scale() {
        return scale;
    }

    /** Updates skipped so far because of an overflow. */
    public long skippedSteps() {
        return skipped;
    }

    /**
     * Reports whether the step's (scaled) gradients were all finite and adapts the scale.
     *
     * @return true when the optimizer should apply the update, false when it must skip it
     */
    public boolean update(boolean gradientsFinite) {
        if (!gradientsFinite) {
            scale = Math.max(scale * backoffFactor, Float.MIN_NORMAL);
            cleanStreak = 0;
            skipped++;
            return false;
        }
        if (++cleanStreak >= growthInterval) {
            float grown = scale * growthFactor;
            scale = Float.isInfinite(grown) ? scale : grown;
            cleanStreak = 0;
        }
        return true;
    }
}
