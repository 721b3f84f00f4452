package dalle.core.dvae;

import java.util.Locale;

/**
 * Everything about how a dVAE is trained besides its sizes and the data: the schedules, the
 * reconstruction term, the code-usage penalty and the encoder's initial logit scale.
 *
 * <ul>
 *   <li>{@link #paper()}: PAPER.md's objective and schedules ({@link DvaeSchedules#tiny()}: the
 *       paper's phase fractions, lr 1e-4, β → 6.6), the logit-Laplace likelihood, no penalty.</li>
 *   <li>{@link #shapes()}: what the shipped {@code tiny} dVAE trains with on the synthetic
 *       {@code shapes} images, changed where the paper's recipe stalls in a few thousand updates on
 *       flat, mostly black images (each change measured on 64 held-out images, see MODEL_CARD.md):
 *       <ul>
 *         <li>a {@link Reconstruction#GAUSSIAN} likelihood instead of the logit-Laplace (17–18 dB
 *             → 24 dB in 400 updates; {@link Reconstruction} says why);</li>
 *         <li>β = 0: no KL pressure towards the uniform prior in a run this short; the posterior
 *             still sharpens as τ falls;</li>
 *         <li>a code-usage penalty of 0.1 ({@link GumbelSoftmax#codeUsageGap}) against collapse
 *             onto a few codes;</li>
 *         <li>the encoder's output logits ×8 at initialisation, so Gumbel noise does not drown
 *             them at τ = 1 (without it: 10 dB after 100 updates, 19.5 dB with it);</li>
 *         <li>lr 1e-3 → 1e-4 over the whole run and τ 1 → 1/16 over its first half: the paper's
 *             5% τ phase is a few dozen updates here.</li>
 *       </ul></li>
 * </ul>
 *
 * @param name {@code paper} or {@code shapes}, recorded in a run's checkpoint settings
 * @param schedules τ, β and learning-rate schedules
 * @param reconstruction the ELB's reconstruction term
 * @param usageWeight weight of the code-usage penalty; 0 is the paper's objective
 * @param encoderLogitGain factor applied once to the encoder's output conv weights at initialisation; 1 leaves them
 */
public record DvaeRecipe(String name, DvaeSchedules schedules, Reconstruction reconstruction, float usageWeight,
                         float encoderLogitGain) {

    public DvaeRecipe {
        if (!(usageWeight >= 0f)) {
            throw new IllegalArgumentException("usage weight must be non-negative, got " + usageWeight);
        }
        if (!(encoderLogitGain > 0f)) {
            throw new IllegalArgumentException("encoder logit gain must be positive, got " + encoderLogitGain);
        }
    }

    /** The paper's objective and schedules, scaled to short runs. */
    public static DvaeRecipe paper() {
        return new DvaeRecipe("paper", DvaeSchedules.tiny(), Reconstruction.LOGIT_LAPLACE, 0f, 1f);
    }

    /** The recipe of the shipped {@code tiny} dVAE on {@code shapes} (see the class comment). */
    public static DvaeRecipe shapes() {
        DvaeSchedules p = DvaeSchedules.tiny();
        DvaeSchedules s = new DvaeSchedules(0f, p.betaRampFraction(), p.tauStart(), p.tauEnd(), 0.5, 1e-3f, 1e-4f, 1.0);
        return new DvaeRecipe("shapes", s, Reconstruction.GAUSSIAN, 0.1f, 8f);
    }

    /**
     * @throws IllegalArgumentException naming the accepted names when {@code name} is neither
     */
    public static DvaeRecipe named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "paper" -> paper();
            case "shapes" -> shapes();
            default -> throw new IllegalArgumentException("unknown dVAE recipe '" + name + "' (expected paper or shapes)");
        };
    }

    public DvaeRecipe withSchedules(DvaeSchedules s) {
        return new DvaeRecipe(name, s, reconstruction, usageWeight, encoderLogitGain);
    }

    public DvaeRecipe withReconstruction(Reconstruction r) {
        return new DvaeRecipe(name, schedules, r, usageWeight, encoderLogitGain);
    }

    public DvaeRecipe withUsageWeight(float w) {
        return new DvaeRecipe(name, schedules, reconstruction, w, encoderLogitGain);
    }

    /** A peak learning rate in place of the recipe's, the end rate scaled with it. */
    public DvaeRecipe withPeakLearningRate(float lr) {
        DvaeSchedules s = schedules;
        return withSchedules(new DvaeSchedules(s.betaMax(), s.betaRampFraction(), s.tauStart(), s.tauEnd(),
                s.tauFraction(), lr, lr * s.lrEnd() / s.lrStart(), s.lrFraction()));
    }
}
