package dalle.core.train;

import ai.djl.ndarray.NDManager;
import dalle.core.nn.Module;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One model's part of training: its data, its loss and its optimiser settings. The {@link Trainer}
 * owns everything else (the loop, gradients, clipping, AdamW, the weight EMA, checkpoints, logs), so
 * the three models share one loop.
 *
 * <p>The model's parameters must live on the manager the {@link Trainer} is given; a resumed run
 * replaces them with the checkpoint's. Everything random in {@link #loss} must come from the
 * {@code rng} argument or be a function of {@code step}, so that a resumed run repeats exactly.
 */
public interface TrainingTask extends AutoCloseable {

    /** The checkpoint kind of the model ({@code dvae}, {@code prior}, {@code clip}). */
    String kind();

    /** The model being trained. */
    Module model();

    /** Its config, written to {@code config.json} beside the weights. */
    Record config();

    /** A fresh model of the same config on {@code manager}: the holder of the averaged weights. */
    Module newModel(NDManager manager);

    /** AdamW's constants, the gradient clip and the weight EMA. */
    OptimizerSettings optimizer();

    /** The learning rate of update {@code step} (0-based) of a {@code totalSteps}-update run. */
    float learningRate(long step, long totalSteps);

    /** Examples per update. */
    int batchSize();

    /**
     * The loss of update {@code step}: loads that update's batch and runs the forward pass.
     *
     * @param scope the step's manager: put the batch here, and every intermediate lands here too
     * @param rng this update's generator ({@link Seeds#forStep}); the only source of randomness
     */
    StepLoss loss(long step, long totalSteps, NDManager scope, SplittableRandom rng);

    /**
     * What must be the same for a checkpoint to be resumed by this task (the config, batch size,
     * data, tokenizer...), by name; compared as strings.
     */
    Map<String, String> identity();

    /**
     * The optimiser and schedule settings, by name. A resumed run may change them (it then continues
     * with the new ones and is told so); with the same settings and budget it repeats the
     * uninterrupted run exactly.
     */
    Map<String, String> settings();

    /** A line about the data for the end of the run (what was read, what was skipped and why). */
    String dataSummary();

    /** Frees what the task holds beyond the model (open files, caches); the default holds nothing. */
    @Override
    default void close() {}
}
