package dalle.core.train;

import dalle.core.nn.Module;

/**
 * What every {@link TrainingTask} holds the same way: its model, checkpoint kind, batch size and
 * optimiser settings. Subclasses add the data, the loss and the schedule.
 *
 * @param <M> the model class
 */
abstract class ModelTask<M extends Module> implements TrainingTask {

    private final String kind;
    protected final M model;
    protected final int batchSize;
    protected final OptimizerSettings optimizer;

    ModelTask(String kind, M model, int batchSize, OptimizerSettings optimizer) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.kind = kind;
        this.model = model;
        this.batchSize = batchSize;
        this.optimizer = optimizer;
    }

    @Override
    public final String kind() {
        return kind;
    }

    @Override
    public final M model() {
        return model;
    }

    @Override
    public final OptimizerSettings optimizer() {
        return optimizer;
    }

    @Override
    public final int batchSize() {
        return batchSize;
    }
}
