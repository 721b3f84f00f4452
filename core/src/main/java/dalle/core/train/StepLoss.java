package dalle.core.train;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link TrainingTask} computes for one batch.
 *
 * @param total the scalar to back-propagate, on the step's manager
 * @param parts named scalar parts of the loss for the log (e.g. {@code reconstruction}, {@code kl}), in
 *     the order they should be shown; may be empty
 * @param schedule named schedule values used by this update (e.g. {@code tau}, {@code beta}); may be empty
 */
public record StepLoss(NDArray total, Map<String, NDArray> parts, Map<String, Float> schedule) {

    public StepLoss {
        Objects.requireNonNull(total, "total");
        parts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parts));
        schedule = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(schedule));
    }
}
