package dalle.core.train;

import java.util.List;

/**
 * An fp32 update whose loss or gradient is not finite. In full precision that is a defect (bad data,
 * a diverging learning rate, a numerical bug), not an overflow to step over: the paper's rule of
 * skipping such updates belongs to the mixed-precision paths, where a too-large gradient scale makes
 * them expected. Skipping them silently in fp32 once hid a libtorch defect that skipped over half of
 * the dVAE's updates (see {@code dalle.core.nn.Conv2d}).
 */
public final class NonFiniteUpdateException extends RuntimeException {

    /**
     * The exit code of a process stopped by this exception: a coordinator must not restart it from the last
     * checkpoint, which would only repeat the same update.
     */
    public static final int EXIT_CODE = 3;

    private final long step;
    private final List<String> parameters;

    /**
     * @param step the update, 1-based, as {@code metrics.jsonl} numbers it
     * @param parameters the parameters whose gradients hold NaN or infinity, in the model's order
     */
    public NonFiniteUpdateException(long step, long totalSteps, float loss, double gradNorm, List<String> parameters,
                             String resumeHint) {
        super(message(step, totalSteps, loss, gradNorm, parameters, resumeHint));
        this.step = step;
        this.parameters = List.copyOf(parameters);
    }

    /** The update, 1-based. */
    public long step() {
        return step;
    }

    /** Parameters with a non-finite gradient (empty when only the loss was). */
    public List<String> parameters() {
        return parameters;
    }

    private static String message(long step, long totalSteps, float loss, double gradNorm, List<String> parameters,
                                  String resumeHint) {
        StringBuilder m = new StringBuilder("update ").append(step).append(" of ").append(totalSteps).append(": ");
        if (!Float.isFinite(loss)) {
            m.append("the loss is ").append(loss);
        } else {
            m.append("the loss is finite (").append(loss).append(") but the gradient norm is ").append(gradNorm);
        }
        if (!parameters.isEmpty()) {
            int shown = Math.min(5, parameters.size());
            m.append("; non-finite gradient in ").append(parameters.size()).append(parameters.size() == 1
                    ? " parameter: " : " parameters: ").append(String.join(", ", parameters.subList(0, shown)));
            if (shown < parameters.size()) {
                m.append(" and ").append(parameters.size() - shown).append(" more");
            }
        }
        m.append(". fp32 training does not skip such updates; nothing was applied. ").append(resumeHint);
        return m.toString();
    }
}
