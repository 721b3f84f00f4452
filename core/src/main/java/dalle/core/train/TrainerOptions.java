package dalle.core.train;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How long and where a run goes.
 *
 * @param out the run's directory: checkpoints, {@code metrics.jsonl}, {@code loss.png}, the final {@code model/}
 * @param totalSteps the update budget; every schedule is scaled to it
 * @param seed the run's seed: weights, data order and every random draw derive from it and the step
 * @param checkpointEvery updates between checkpoints (one is also written at the end)
 * @param resume continue from the checkpoint in {@code out}; without it, a directory that already holds a
 *     run is refused
 */
public record TrainerOptions(Path out, long totalSteps, long seed, int checkpointEvery, boolean resume) {

    public TrainerOptions {
        Objects.requireNonNull(out, "out");
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("steps must be positive, got " + totalSteps);
        }
        if (checkpointEvery <= 0) {
            throw new IllegalArgumentException("checkpoint interval must be positive, got " + checkpointEvery);
        }
    }

    /** Where the final model directory goes: {@code out/model}. */
    public Path modelDir() {
        return out.resolve(Trainer.MODEL_DIR);
    }

    /** {@code out/metrics.jsonl}. */
    public Path metricsFile() {
        return out.resolve(MetricsLog.FILE);
    }

    /** {@code out/loss.png}. */
    public Path chartFile() {
        return out.resolve(LossChart.FILE);
    }
}
