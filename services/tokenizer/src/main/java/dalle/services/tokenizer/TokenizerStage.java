package dalle.services.tokenizer;


import dalle.services.common.stage.BundleDirs;
import dalle.services.common.stage.ModelStage;
import dalle.services.common.stage.StageLoader;
import dalle.services.common.stage.WorkQueue;
import dalle.services.tokenizer.config.TokenizerConfig;
import dalle.services.tokenizer.grpc.TokenizerHealth;
import dalle.services.tokenizer.messaging.TokenizerHandler;
import dalle.v1.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.grpc.GrpcService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The tokenizer stage in this process: at start, on a background thread, loads the bundle's tokenizer, warms it
 * up, then starts the Kafka stage and reports SERVING on gRPC health. gRPC calls and Kafka records share one
 * bounded queue in front of one tokenizer thread.
 */
@Singleton
public class TokenizerStage {

    private final TokenizerConfig config;
    private final ModelStage<TokenizerModel> stage;

    public TokenizerStage(TokenizerConfig config, MeterRegistry registry, @GrpcService TokenizerHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            Config kafkaConfig, OpenTelemetry telemetry) {
        this.config = config;
        var k = config.kafka();
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.stage = new ModelStage<>("tokenizer", Stage.STAGE_TOKENIZER, config.queueCapacity(), registry, health,
                ModelStage.Kafka.of(k.enabled(), k.maxPollRecords(), k.instanceId(), bootstrap,
                        key -> kafkaConfig.getOptionalValue(key, String.class)).traced(telemetry),
                this::load, TokenizerHandler::new);
    }

    void start(@Observes StartupEvent event) {
        stage.start();
    }

    private TokenizerModel load(java.util.function.Consumer<String> state) {
        Path dir = BundleDirs.resolve(config.model(), config.home());
        state.accept("loading the tokenizer of bundle " + dir.toAbsolutePath());
        TokenizerModel model = TokenizerModel.load(dir);
        state.accept("warming up bundle " + model.info().getBundleVersion());
        model.tokenize("warm up");
        return model;
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public TokenizerModel model() {
        return stage.model();
    }

    /** The queue in front of the tokenizer thread. */
    public WorkQueue queue() {
        return stage.queue();
    }

    public StageLoader<TokenizerModel> loader() {
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
