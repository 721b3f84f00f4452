package dalle.services.decoder;


import dalle.core.pipeline.Pipeline;
import dalle.services.common.stage.BundleDirs;
import dalle.services.common.stage.ModelStage;
import dalle.services.common.stage.StageLoader;
import dalle.services.common.stage.WorkQueue;
import dalle.services.decoder.config.DecoderConfig;
import dalle.services.decoder.grpc.DecoderHealth;
import dalle.services.decoder.messaging.DecoderHandler;
import dalle.v1.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.grpc.GrpcService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.List;
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
    private final ModelStage<DecoderModel> stage;

    public DecoderStage(DecoderConfig config, MeterRegistry registry, @GrpcService DecoderHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            Config kafkaConfig, OpenTelemetry telemetry) {
        this.config = config;
        var k = config.kafka();
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.stage = new ModelStage<>("decoder", Stage.STAGE_DECODER, config.queueCapacity(), registry, health,
                ModelStage.Kafka.of(k.enabled(), k.maxPollRecords(), k.instanceId(), bootstrap,
                        key -> kafkaConfig.getOptionalValue(key, String.class)).traced(telemetry),
                this::load, DecoderHandler::new);
    }

    void start(@Observes StartupEvent event) {
        stage.start();
    }

    private DecoderModel load(java.util.function.Consumer<String> state) {
        Path dir = BundleDirs.resolve(config.model(), config.home());
        state.accept("loading the dVAE of bundle " + dir.toAbsolutePath());
        DecoderModel model = DecoderModel.load(dir, config.decodeWorkers().orElseGet(Pipeline::stageWorkers));
        state.accept("warming up bundle " + model.info().getBundleVersion());
        model.decode(List.of(new int[model.info().getGridSize() * model.info().getGridSize()]));
        return model;
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public DecoderModel model() {
        return stage.model();
    }

    /** The queue in front of the decoder thread. */
    public WorkQueue queue() {
        return stage.queue();
    }

    public StageLoader<DecoderModel> loader() {
        return stage.loader();
    }

    /** Why the Kafka stage is not alive (its thread died, or it is stuck); null while it runs (or is off). */
    public String kafkaFailure() {
        return stage.kafkaFailure();
    }

    void stop(@Observes ShutdownEvent event) throws Exception {
        stage.close();
    }
}
