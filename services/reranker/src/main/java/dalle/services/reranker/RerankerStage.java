package dalle.services.reranker;

import dalle.core.image.RgbImage;
import dalle.services.common.stage.BundleDirs;
import dalle.services.common.stage.ModelStage;
import dalle.services.common.stage.StageLoader;
import dalle.services.common.stage.WorkQueue;
import dalle.services.reranker.config.RerankerConfig;
import dalle.services.reranker.grpc.RerankerHealth;
import dalle.services.reranker.messaging.RerankerHandler;
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
 * The reranker stage in this process: at start, on a background thread, loads the bundle's reranker and tokenizer,
 * warms them up with one blank image, then starts the Kafka stage and reports SERVING on gRPC health. gRPC calls
 * share one bounded queue in front of one reranker thread; the Kafka stage scores on its own consumer thread.
 */
@Singleton
public class RerankerStage {

    private final RerankerConfig config;
    private final ModelStage<RerankerModel> stage;

    public RerankerStage(RerankerConfig config, MeterRegistry registry, @GrpcService RerankerHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            Config kafkaConfig, OpenTelemetry telemetry) {
        this.config = config;
        var k = config.kafka();
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.stage = new ModelStage<>("reranker", Stage.STAGE_RERANKER, config.queueCapacity(), registry, health,
                ModelStage.Kafka.of(k.enabled(), k.maxPollRecords(), k.instanceId(), bootstrap,
                        key -> kafkaConfig.getOptionalValue(key, String.class)).traced(telemetry),
                this::load, RerankerHandler::new);
    }

    void start(@Observes StartupEvent event) {
        stage.start();
    }

    private RerankerModel load(java.util.function.Consumer<String> state) {
        Path dir = BundleDirs.resolve(config.model(), config.home());
        state.accept("loading the reranker and tokenizer of bundle " + dir.toAbsolutePath());
        RerankerModel model = RerankerModel.load(dir);
        state.accept("warming up bundle " + model.info().getBundleVersion());
        model.score(model.tokenize("warm up"), List.of(new RgbImage(model.imageSize(), model.imageSize(),
                new float[3 * model.imageSize() * model.imageSize()])));
        return model;
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public RerankerModel model() {
        return stage.model();
    }

    /** The queue in front of the reranker thread. */
    public WorkQueue queue() {
        return stage.queue();
    }

    public StageLoader<RerankerModel> loader() {
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
