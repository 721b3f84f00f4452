package dalle.core.train;

import java.nio.file.Path;

/** Hears about a training run as it goes, e.g. to draw a progress line. Called on the training thread. */
public interface TrainingListener {

    /** A listener that ignores everything. */
    TrainingListener NONE = m -> { };

    /** After each update. */
    void onStep(StepMetrics metrics);

    /** After a checkpoint was written to {@code dir}. */
    default void onCheckpoint(long step, Path dir) {}

    /** Something the person running the training should know (a resume, a warning). */
    default void onNote(String message) {}
}
