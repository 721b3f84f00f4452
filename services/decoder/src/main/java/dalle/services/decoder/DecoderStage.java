package dalle.services.decoder;

import dalle.services.common.kafka.KafkaSecurity;
import dalle.services.common.kafka.KafkaStage;
import dalle.services.common.stage.BundleDirs;
import dalle.services.common.stage.StageLoader;
import dalle.services.common.stage.StageMetrics;
import dalle.services.common.stage.WorkQueue;
import dalle.services.decoder.config.DecoderConfig;
import dalle.services.decoder.grpc.DecoderHealth;
import dalle.services.decoder.messaging.DecoderHandler;
import dalle.v1.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GrpcService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The decoder stage in this process: at start, on a background thread, loads the bundle's dVAE, warms it up
 * with one grid, then starts the Kafka stage and reports SERVING on gRPC health. gRPC calls share one bounded
 * queue in front of one decoder thread; the Kafka stage decodes on its own consumer thread.
 */
@Singleton
public class DecoderStage {

    private final DecoderConfig config;
    private final String bootstrap;
    private final KafkaSecurity security;
    private final StageMetrics metrics;
    private final DecoderHealth health;
    private final WorkQueue queue;
    private final StageLoader<DecoderModel> loader;
    private volatile KafkaStage<?, ?> kafka;

    public DecoderStage(DecoderConfig config, MeterRegistry registry, @GrpcService DecoderHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            Config kafkaConfig) {
        this.config = config;
        this.bootstrap = bootstrap;
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.security = config.kafka().enabled()
                ? KafkaSecurity.from(key -> kafkaConfig.getOptionalValue(key, String.class)) : KafkaSecurity.PLAINTEXT;
        this.health = health;
        this.metrics = new StageMetrics(registry);
        metrics.register(List.of(Stage.STAGE_DECODER));
        this.queue = new WorkQueue(Stage.STAGE_DECODER, config.queueCapacity(), metrics);
        this.loader = new StageLoader<>("decoder", this::load, this::ready);
    }

    void start(@Observes StartupEvent event) {
        loader.start();
    }

    private DecoderModel load(java.util.function.Consumer<String> state) {
        Path dir = BundleDirs.resolve(config.model(), config.home());
        state.accept("loading the dVAE of bundle " + dir.toAbsolutePath());
        DecoderModel model = DecoderModel.load(dir);
        state.accept("warming up bundle " + model.info().getBundleVersion());
        model.decode(List.of(new int[model.info().getGridSize() * model.info().getGridSize()]));
        return model;
    }

    private void ready(DecoderModel model) {
        if (config.kafka().enabled()) {
            kafka = new KafkaStage<>(new DecoderHandler(model), metrics, KafkaStage.Settings.of(bootstrap,
                    config.kafka().maxPollRecords(), config.kafka().instanceId())
                    .withClient(security.with(Map.of())));
        }
        health.serving(true);
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public DecoderModel model() {
        return loader.require();
    }

    /** The queue in front of the decoder thread. */
    public WorkQueue queue() {
        return queue;
    }

    public StageLoader<DecoderModel> loader() {
        return loader;
    }

    /** Why the Kafka stage is not alive (its thread died, or it is stuck); null while it runs (or is off). */
    public String kafkaFailure() {
        KafkaStage<?, ?> k = kafka;
        return k == null ? null : k.failure();
    }

    void stop(@Observes ShutdownEvent event) throws Exception {
        health.serving(false);
        KafkaStage<?, ?> k = kafka;
        if (k != null) {
            k.close();
        }
        queue.close();
        loader.close();
    }
}
