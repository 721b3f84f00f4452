package dalle.core.dvae;

/**
 * The dVAE's training schedules as functions of (step, totalSteps), so that a run of any length
 * follows the paper's shape: each schedule spends the same fraction of the run as in the paper's
 * 3 M-update run (appendix A.2), then holds its final value.
 *
 * <ul>
 *   <li>β, the KL weight: cosine ramp 0 → {@code betaMax} (6.6) over the first
 *       {@code betaRampFraction} of the run (paper: 5 000 of 3 M updates);
 *   <li>τ, the Gumbel-softmax temperature: cosine anneal {@code tauStart} (1) → {@code tauEnd} (1/16)
 *       over the first {@code tauFraction} (paper: 150 000 of 3 M; a linear anneal diverged);
 *   <li>the AdamW step size: cosine anneal {@code lrStart} (1e-4) → {@code lrEnd} (1.25e-6) over
 *       the first {@code lrFraction} (paper: 1.2 M of 3 M).
 * </ul>
 *
 * <p>A phase of fraction f covers {@code max(1, round(f · totalSteps))} steps; step 0 gives the
 * start value and every step from the phase's end on gives the end value. Cosine shape:
 * {@code end + (start − end) · (1 + cos(π · step / phaseSteps)) / 2}.
 */
public record DvaeSchedules(float betaMax, double betaRampFraction, float tauStart, float tauEnd,
                            double tauFraction, float lrStart, float lrEnd, double lrFraction) {

    public DvaeSchedules {
        checkFraction("betaRampFraction", betaRampFraction);
        checkFraction("tauFraction", tauFraction);
        checkFraction("lrFraction", lrFraction);
        if (betaMax < 0) {
            throw new IllegalArgumentException("betaMax must be non-negative, got " + betaMax);
        }
        if (!(tauStart > 0) || !(tauEnd > 0)) {
            throw new IllegalArgumentException("temperatures must be positive, got " + tauStart + " -> " + tauEnd);
        }
        if (!(lrStart >= 0) || !(lrEnd >= 0)) {
            throw new IllegalArgumentException("learning rates must be non-negative, got " + lrStart + " -> " + lrEnd);
        }
    }

    /** The paper's values and phase lengths (relative to its 3 M updates). */
    public static DvaeSchedules paper() {
        return new DvaeSchedules(6.6f, 5_000 / 3e6, 1f, 1f / 16, 150_000 / 3e6, 1e-4f, 1.25e-6f, 1_200_000 / 3e6);
    }

    /**
     * The paper's schedules for short runs (thousands of steps), with one change: β ramps over the
     * first 5% of the run instead of 1/600 of it, which would be a handful of steps here.
     */
    public static DvaeSchedules tiny() {
        DvaeSchedules p = paper();
        return new DvaeSchedules(p.betaMax, 0.05, p.tauStart, p.tauEnd, p.tauFraction, p.lrStart, p.lrEnd,
                p.lrFraction);
    }

    /** KL weight β at {@code step} (0-based) of a {@code totalSteps}-step run. */
    public float beta(long step, long totalSteps) {
        return cosine(0f, betaMax, step, phaseSteps(betaRampFraction, totalSteps));
    }

    /** Gumbel-softmax temperature τ at {@code step} of a {@code totalSteps}-step run. */
    public float tau(long step, long totalSteps) {
        return cosine(tauStart, tauEnd, step, phaseSteps(tauFraction, totalSteps));
    }

    /** AdamW learning rate at {@code step} of a {@code totalSteps}-step run. */
    public float lr(long step, long totalSteps) {
        return cosine(lrStart, lrEnd, step, phaseSteps(lrFraction, totalSteps));
    }

    private static long phaseSteps(double fraction, long totalSteps) {
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        }
        return Math.max(1, Math.round(fraction * totalSteps));
    }

    private static float cosine(float start, float end, long step, long phaseSteps) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        double t = Math.min(1.0, (double) step / phaseSteps);
        // written from the end so that t = 1 gives exactly `end` (cos π = −1) and t = 0 exactly `start`
        return (float) (end + ((double) start - end) * (1 + Math.cos(Math.PI * t)) / 2);
    }

    private static void checkFraction(String name, double f) {
        if (!(f > 0 && f <= 1)) {
            throw new IllegalArgumentException(name + " must be in (0, 1], got " + f);
        }
    }
}
