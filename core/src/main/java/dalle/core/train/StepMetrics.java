package dalle.core.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One update, as logged to {@code metrics.jsonl}.
 *
 * @param step updates done, counting this one (1-based)
 * @param totalSteps the run's budget
 * @param losses {@code loss} (the back-propagated total) first, then the task's parts, in nats
 * @param lr the learning rate this update used
 * @param schedule the task's other schedule values (τ, β)
 * @param gradNorm global L2 norm of the gradient before clipping
 * @param skipped true when the loss or gradient was not finite and the update was skipped
 * @param stepsPerSecond updates per second since this session (start or resume) began
 * @param wallSeconds wall-clock seconds of the whole run, earlier sessions included
 */
public record StepMetrics(long step, long totalSteps, Map<String, Float> losses, float lr,
                          Map<String, Float> schedule, double gradNorm, boolean skipped, double stepsPerSecond,
                          double wallSeconds) {

    public StepMetrics {
        losses = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(losses));
        schedule = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(schedule));
    }

    /** The back-propagated loss. */
    public float loss() {
        return losses.get(Trainer.LOSS);
    }

    /** The JSON-lines row: step, losses, lr, schedule values, grad_norm, skipped, steps_per_s, wall_s. */
    Map<String, Object> row() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("step", step);
        row.putAll(losses);
        row.put("lr", lr);
        row.putAll(schedule);
        row.put("grad_norm", (float) gradNorm);
        if (skipped) {
            row.put("skipped", true);
        }
        row.put("steps_per_s", Math.round(stepsPerSecond * 1000) / 1000.0);
        row.put("wall_s", Math.round(wallSeconds * 10) / 10.0);
        return row;
    }
}
