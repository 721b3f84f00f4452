package dalle.services.sampler;

import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.kafka.KafkaSecurity;
import dalle.services.common.kafka.KafkaStage;
import dalle.services.common.kafka.KafkaTracing;
import dalle.services.common.stage.BundleDirs;
import dalle.services.common.stage.StageLoader;
import dalle.services.common.stage.StageMetrics;
import dalle.services.sampler.config.SamplerConfig;
import dalle.services.sampler.grpc.SamplerHealth;
import dalle.services.sampler.messaging.SamplerHandler;
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
import java.util.Map;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The sampler stage in this process: at start, on a background thread, loads the bundle's prior and warms it up
 * with one candidate, then starts the {@link SamplerBatcher} (which gRPC calls and Kafka records share, so their
 * candidates batch together), the Kafka stage, and reports SERVING on gRPC health.
 */
@Singleton
public class SamplerStage {

    private final SamplerConfig config;
    private final String bootstrap;
    private final KafkaSecurity security;
    private final KafkaTracing tracing;
    private final StageMetrics metrics;
    private final SamplerHealth health;
    private final StageLoader<SamplerModel> loader;
    private final SamplerBatcher.Batching batching;
    private volatile SamplerBatcher batcher;
    private volatile KafkaStage<?, ?> kafka;

    public SamplerStage(SamplerConfig config, MeterRegistry registry, @GrpcService SamplerHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            Config kafkaConfig, OpenTelemetry telemetry) {
        this.config = config;
        this.batching = SamplerBatcher.Batching.parse(config.sampler().batching()); // a bad value fails the start
        this.bootstrap = bootstrap;
        this.tracing = new KafkaTracing(telemetry);
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.security = config.kafka().enabled()
                ? KafkaSecurity.from(key -> kafkaConfig.getOptionalValue(key, String.class)) : KafkaSecurity.PLAINTEXT;
        this.health = health;
        this.metrics = new StageMetrics(registry);
        metrics.register(List.of(Stage.STAGE_SAMPLER));
        this.loader = new StageLoader<>("sampler", this::load, this::ready);
    }

    void start(@Observes StartupEvent event) {
        loader.start();
    }

    private SamplerModel load(Consumer<String> state) {
        Path dir = BundleDirs.resolve(config.model(), config.home());
        state.accept("loading the prior of bundle " + dir.toAbsolutePath());
        SamplerModel model = SamplerModel.load(dir);
        state.accept("warming up bundle " + model.info().getBundleVersion());
        model.sampler().sample(List.of(new CandidateSpec(model.emptyText(), 0L, 0, SamplingParams.DEFAULT)), true,
                k -> { });
        return model;
    }

    private void ready(SamplerModel model) {
        var s = config.sampler();
        batcher = new SamplerBatcher(model.sampler(), model.imageTokens(),
                new SamplerBatcher.Settings(s.maxBatch(), s.maxDelay(), s.queueCapacity(),
                        batching), metrics);
        metrics.queueDepth(Stage.STAGE_SAMPLER, batcher::queued);
        if (config.kafka().enabled()) {
            kafka = new KafkaStage<>(new SamplerHandler(model, batcher), metrics, KafkaStage.Settings.of(bootstrap,
                    config.kafka().maxPollRecords(), config.kafka().instanceId())
                    .withClient(security.with(Map.of())).withTracing(tracing));
        }
        health.serving(true);
    }

    /** The loaded model; UNAVAILABLE (saying why) until it is loaded and warm. */
    public SamplerModel model() {
        return loader.require();
    }

    /** The batcher; UNAVAILABLE (saying why) until the model is loaded and warm. */
    public SamplerBatcher batcher() {
        loader.require();
        return batcher;
    }

    public StageLoader<SamplerModel> loader() {
        return loader;
    }

    /**
     * Why the stage is not alive: its batcher thread died, or its Kafka stage's did (or is stuck); null while they
     * run.
     */
    public String notAlive() {
        SamplerBatcher b = batcher;
        if (b != null && !b.alive()) {
            return "the sampler's batcher stopped: " + b.failure();
        }
        KafkaStage<?, ?> k = kafka;
        return k == null ? null : k.failure();
    }

    void stop(@Observes ShutdownEvent event) throws Exception {
        health.serving(false);
        KafkaStage<?, ?> k = kafka;
        if (k != null) {
            k.close();
        }
        SamplerBatcher b = batcher;
        if (b != null) {
            b.close();
        }
        loader.close();
    }
}
