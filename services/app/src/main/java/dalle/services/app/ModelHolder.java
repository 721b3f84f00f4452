package dalle.services.app;

import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.GenerationRequest;
import dalle.services.app.kafka.DecoderHandler;
import dalle.services.common.kafka.KafkaStage;
import dalle.services.app.kafka.RerankerHandler;
import dalle.services.app.kafka.SamplerHandler;
import dalle.services.app.kafka.TokenizerHandler;
import dalle.services.app.stage.Role;
import dalle.services.app.stage.SamplerBatcher;
import dalle.services.app.stage.StageAccess;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.services.app.stage.StageModel;
import dalle.services.app.stage.StageRuntime;
import dalle.v1.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The model roles' runtime in this process: at start, on a background thread (so health answers while it
 * loads), loads the bundle, runs one warm-up generation through core's Pipeline, builds the {@link StageRuntime}
 * and starts the Kafka stage of each model role. Until then (or when loading failed) every model role answers
 * UNAVAILABLE and readiness is DOWN with the reason.
 */
@Singleton
public class ModelHolder implements StageAccess {

    private static final Logger LOG = Logger.getLogger(ModelHolder.class);

    private final ServicesConfig config;
    private final Set<Role> roles;
    private final StageMetrics metrics;
    private final String bootstrapServers;
    private final List<KafkaStage<?, ?>> kafkaStages = new ArrayList<>();
    private volatile StageRuntime runtime;
    private volatile String state = "not started";

    public ModelHolder(ServicesConfig config, MeterRegistry registry,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap) {
        this.config = config;
        this.roles = Role.parse(config.roles());
        this.metrics = new StageMetrics(registry);
        this.metrics.register(roles.stream().filter(Role::needsModel).map(Role::stage).toList());
        this.bootstrapServers = bootstrap;
    }

    /** The roles of this process. */
    public Set<Role> roles() {
        return roles;
    }

    /** The bundle directory: dalle.model, else models/tiny (under dalle.home when set). */
    public static Path bundleDir(ServicesConfig config) {
        return config.model().map(Path::of)
                .orElse(Path.of(config.home().orElse("."), "models", "tiny"));
    }

    void start(@Observes StartupEvent event) {
        LOG.infof("dalle services: roles %s", roles);
        if (roles.stream().noneMatch(Role::needsModel)) {
            state = "no model role in this process";
            return;
        }
        Thread loader = new Thread(this::load, "model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    private void load() {
        Path dir = bundleDir(config);
        if (!Files.isDirectory(dir)) {
            state = "no model bundle at " + dir.toAbsolutePath() + ": set dalle.model to a bundle directory "
                    + "(an untrained one for trying the mechanics: dalle bundle init --out DIR)";
            LOG.error(state);
            return;
        }
        try {
            state = "loading bundle " + dir;
            long t0 = System.nanoTime();
            StageModel model = new StageModel(ModelBundle.load(dir));
            state = "warming up bundle " + model.version();
            model.pipeline().generate(GenerationRequest.of("warm up", 1, 1, 0L));
            StageRuntime rt = new StageRuntime(model, new StageRuntime.Settings(new SamplerBatcher.Settings(
                    config.sampler().maxBatch(), config.sampler().maxDelay(), config.sampler().queueCapacity()),
                    config.queueCapacity()), metrics);
            if (config.kafka().enabled()) {
                startKafka(rt);
            }
            runtime = rt;
            state = "ready: bundle " + model.version() + " loaded and warmed up in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms";
            LOG.info(state);
        } catch (RuntimeException e) {
            state = "loading bundle " + dir + " failed: " + e.getMessage();
            LOG.error(state, e);
        }
    }

    private void startKafka(StageRuntime rt) {
        int n = config.kafka().maxPollRecords();
        var id = config.kafka().instanceId();
        if (roles.contains(Role.TOKENIZER)) {
            kafkaStages.add(new KafkaStage<>(bootstrapServers, new TokenizerHandler(rt.model()), metrics, n, id));
        }
        if (roles.contains(Role.SAMPLER)) {
            kafkaStages.add(new KafkaStage<>(bootstrapServers, new SamplerHandler(rt), metrics,
                    config.kafka().samplerMaxPollRecords(), id));
        }
        if (roles.contains(Role.DECODER)) {
            kafkaStages.add(new KafkaStage<>(bootstrapServers, new DecoderHandler(rt.model()), metrics, n, id));
        }
        if (roles.contains(Role.RERANKER)) {
            kafkaStages.add(new KafkaStage<>(bootstrapServers, new RerankerHandler(rt.model()), metrics, n, id));
        }
    }

    /** Whether the model roles can serve: bundle loaded and warmed up. */
    public boolean ready() {
        return runtime != null;
    }

    /** What the model loader is doing, or why it failed. */
    public String state() {
        return state;
    }

    public StageMetrics metrics() {
        return metrics;
    }

    /** The Kafka stages whose consumer thread died, with why; empty when all run. */
    public List<String> deadKafkaStages() {
        List<String> dead = new ArrayList<>();
        for (KafkaStage<?, ?> s : kafkaStages) {
            if (s.failure() != null) {
                dead.add(s.stage() + ": " + s.failure());
            }
        }
        return dead;
    }

    @Override
    public StageRuntime require(Role role) {
        if (!roles.contains(role)) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "the " + role.id()
                    + " role does not run in this process (dalle.roles=" + config.roles() + ")");
        }
        StageRuntime rt = runtime;
        if (rt == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, role.id() + " is not ready: " + state);
        }
        return rt;
    }

    void stop(@Observes ShutdownEvent event) {
        for (KafkaStage<?, ?> s : kafkaStages) {
            s.close();
        }
        StageRuntime rt = runtime;
        if (rt != null) {
            rt.close();
            rt.model().close();
        }
    }
}
