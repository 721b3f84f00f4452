package dalle.services.app.stage;

import dalle.services.common.stage.StageMetrics;
import dalle.services.common.stage.WorkQueue;
import dalle.v1.Stage;
import java.util.Objects;

/**
 * Everything a model stage computes with once the bundle is loaded: the model, the sampler's batcher and the
 * bounded queues of the other stages, and the metrics. The gRPC services and the Kafka stages share one runtime,
 * so gRPC calls and Kafka records batch together and count against the same queue bounds.
 */
public final class StageRuntime implements AutoCloseable {

    /**
     * Queue and batching settings.
     *
     * @param sampler the sampler batcher's
     * @param queueCapacity calls waiting per tokenizer/decoder/reranker queue
     */
    public record Settings(SamplerBatcher.Settings sampler, int queueCapacity) {
        public Settings {
            Objects.requireNonNull(sampler, "sampler");
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity " + queueCapacity + " must be at least 1");
            }
        }
    }

    private final StageModel model;
    private final StageMetrics metrics;
    private final SamplerBatcher batcher;
    private final WorkQueue tokenizer;
    private final WorkQueue decoder;
    private final WorkQueue reranker;

    public StageRuntime(StageModel model, Settings settings, StageMetrics metrics) {
        this.model = model;
        this.metrics = metrics;
        this.batcher = new SamplerBatcher(model.sampler(), model.info().getGridSize() * model.info().getGridSize(),
                settings.sampler(), metrics);
        this.tokenizer = new WorkQueue(Stage.STAGE_TOKENIZER, settings.queueCapacity(), metrics);
        this.decoder = new WorkQueue(Stage.STAGE_DECODER, settings.queueCapacity(), metrics);
        this.reranker = new WorkQueue(Stage.STAGE_RERANKER, settings.queueCapacity(), metrics);
    }

    public StageModel model() {
        return model;
    }

    public StageMetrics metrics() {
        return metrics;
    }

    public SamplerBatcher batcher() {
        return batcher;
    }

    /** The bounded queue of a non-sampler stage. */
    public WorkQueue queue(Stage stage) {
        return switch (stage) {
            case STAGE_TOKENIZER -> tokenizer;
            case STAGE_DECODER -> decoder;
            case STAGE_RERANKER -> reranker;
            default -> throw new IllegalArgumentException(stage + " has no work queue");
        };
    }

    /** Stops the threads (queued work fails UNAVAILABLE); the model stays open. */
    @Override
    public void close() {
        batcher.close();
        tokenizer.close();
        decoder.close();
        reranker.close();
    }
}
