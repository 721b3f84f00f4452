package dalle.core.train;

import java.util.Map;

/**
 * Where a call to {@link Trainer#run} left the run.
 *
 * @param step updates done
 * @param totalSteps the budget
 * @param skippedUpdates updates skipped because the loss or gradient was not finite
 * @param wallSeconds wall-clock seconds of the whole run, earlier sessions included
 * @param lastLosses the last update's losses ({@code loss} and parts); empty when no update ran
 */
public record TrainingResult(long step, long totalSteps, long skippedUpdates, double wallSeconds,
                             Map<String, Float> lastLosses) {

    public TrainingResult {
        lastLosses = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(lastLosses));
    }

    /** True when the budget is spent and the final model has been written. */
    public boolean finished() {
        return step >= totalSteps;
    }
}
