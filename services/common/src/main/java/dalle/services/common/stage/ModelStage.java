package dalle.services.common.stage;

import com.google.protobuf.Message;
import dalle.services.common.grpc.HealthService;
import dalle.services.common.kafka.KafkaSecurity;
import dalle.services.common.kafka.KafkaStage;
import dalle.services.common.kafka.KafkaTracing;
import dalle.services.common.kafka.StageHandler;
import dalle.v1.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a one-model stage service (tokenizer, decoder, reranker) runs in its process: at start, on a background
 * thread, it loads and warms up its model ({@link StageLoader}), then starts its Kafka stage and reports SERVING
 * on gRPC health; gRPC calls share one bounded {@link WorkQueue} in front of one model thread. Each service's
 * {@code XxxStage} bean holds one and says what loading and the Kafka handler are.
 *
 * @param <M> the stage's model
 */
public final class ModelStage<M extends AutoCloseable> implements AutoCloseable {

    /**
     * The stage's Kafka path, from its {@code dalle.kafka.*} keys.
     *
     * @param security from {@code kafka.security.protocol}, {@code kafka.sasl.*}, {@code kafka.ssl.*}
     * @param tracing the trace context on its records ({@link KafkaTracing#OFF} = none)
     */
    public record Kafka(boolean enabled, int maxPollRecords, Optional<String> instanceId, String bootstrap,
                        KafkaSecurity security, KafkaTracing tracing) {

        /**
         * The settings, the security keys read through {@code lookup} only when Kafka is on (so a wrong key fails
         * the start, and a stage without Kafka needs none).
         */
        public static Kafka of(boolean enabled, int maxPollRecords, Optional<String> instanceId, String bootstrap,
                Function<String, Optional<String>> lookup) {
            return new Kafka(enabled, maxPollRecords, instanceId, bootstrap,
                    enabled ? KafkaSecurity.from(lookup) : KafkaSecurity.PLAINTEXT, KafkaTracing.OFF);
        }

        /** The same, its records traced with {@code telemetry} (the service's OpenTelemetry). */
        public Kafka traced(OpenTelemetry telemetry) {
            return new Kafka(enabled, maxPollRecords, instanceId, bootstrap, security, new KafkaTracing(telemetry));
        }
    }

    private final Kafka kafkaSettings;
    private final HealthService health;
    private final StageMetrics metrics;
    private final WorkQueue queue;
    private final StageLoader<M> loader;
    private final Function<M, StageHandler<?, ?>> handler;
    private volatile KafkaStage<?, ?> kafka;

    /**
     * @param name the stage's name in logs and states ({@code decoder})
     * @param load loads and warms up the model, telling its state as it goes
     * @param handler the Kafka stage's handler over the loaded model
     */
    public ModelStage(String name, Stage stage, int queueCapacity, MeterRegistry registry, HealthService health,
            Kafka kafka, Function<Consumer<String>, M> load, Function<M, StageHandler<?, ?>> handler) {
        this.kafkaSettings = kafka;
        this.health = health;
        this.handler = handler;
        this.metrics = new StageMetrics(registry);
        metrics.register(List.of(stage));
        this.queue = new WorkQueue(stage, queueCapacity, metrics);
        this.loader = new StageLoader<>(name, load, this::ready);
    }

    /** Starts loading on the loader's thread. */
    public void start() {
        loader.start();
    }

    private void ready(M model) {
        if (kafkaSettings.enabled()) {
            kafka = kafkaStage(handler.apply(model));
        }
        health.serving(true);
    }

    private <I extends Message, P> KafkaStage<I, P> kafkaStage(StageHandler<I, P> h) {
        return new KafkaStage<>(h, metrics, KafkaStage.Settings.of(kafkaSettings.bootstrap(),
                kafkaSettings.maxPollRecords(), kafkaSettings.instanceId())
                .withClient(kafkaSettings.security().with(Map.of())).withTracing(kafkaSettings.tracing()));
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public M model() {
        return loader.require();
    }

    /** The queue in front of the model thread. */
    public WorkQueue queue() {
        return queue;
    }

    public StageLoader<M> loader() {
        return loader;
    }

    /** Why the Kafka stage is not alive (its thread died, or it is stuck); null while it runs (or is off). */
    public String kafkaFailure() {
        KafkaStage<?, ?> k = kafka;
        return k == null ? null : k.failure();
    }

    /** NOT_SERVING, then the Kafka stage, the queue and the model closed. */
    @Override
    public void close() throws Exception {
        health.serving(false);
        KafkaStage<?, ?> k = kafka;
        if (k != null) {
            k.close();
        }
        queue.close();
        loader.close();
    }
}
