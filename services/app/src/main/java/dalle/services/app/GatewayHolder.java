package dalle.services.app;

import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.ModelBundle;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.io.Checkpoints;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import dalle.services.app.gateway.GatewayCore;
import dalle.services.app.gateway.GatewayService;
import dalle.services.app.gateway.Jobs;
import dalle.services.app.gateway.KafkaJobView;
import dalle.services.app.stage.Role;
import dalle.services.app.stage.StageException;
import dalle.services.common.Topics;
import dalle.v1.ErrorCode;
import dalle.v1.GenerationRequest;
import dalle.v1.ModelInfo;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The gateway role's parts: channels to the stages, {@link GatewayCore}, the bounded executor of running
 * generations and, with Kafka on, {@link Jobs} over a {@link KafkaJobView}. The gateway reads the bundle's sizes
 * from its manifest and configs (no weights), to check requests and report ModelInfo.
 */
@Singleton
public class GatewayHolder implements GatewayService.Access {

    private static final Logger LOG = Logger.getLogger(GatewayHolder.class);

    private final ServicesConfig config;
    private final boolean enabled;
    private final String bootstrapServers;
    private volatile ModelInfo info;
    private volatile String state = "not started";
    private dalle.services.app.gateway.StageClients clients;
    private GatewayCore core;
    private ThreadPoolExecutor executor;
    private KafkaProducer<String, GenerationRequest> producer;
    private KafkaJobView view;
    private Jobs jobs;

    public GatewayHolder(ServicesConfig config,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap) {
        this.config = config;
        this.enabled = Role.parse(config.roles()).contains(Role.GATEWAY);
        this.bootstrapServers = bootstrap;
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            return;
        }
        var g = config.gateway();
        clients = new dalle.services.app.gateway.StageClients(g.tokenizerAddress(), g.samplerAddress(),
                g.decoderAddress(), g.rerankerAddress());
        core = new GatewayCore(clients, this::model, g.defaultTimeout());
        executor = new ThreadPoolExecutor(g.concurrency(), g.concurrency(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(g.concurrency()), r -> {
                    Thread t = new Thread(r, "gateway-generate");
                    t.setDaemon(true);
                    return t;
                });
        if (config.kafka().enabled()) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            producer = new KafkaProducer<>(p, new StringSerializer(),
                    Topics.GENERATION_REQUESTS.valueSerde().serializer());
            view = new KafkaJobView(bootstrapServers);
            jobs = new Jobs(producer, view);
        }
        try {
            model();
        } catch (StageException e) {
            LOG.error(e.getMessage());
        }
    }

    /** The served bundle's sizes, read once from the bundle directory. */
    ModelInfo model() {
        ModelInfo m = info;
        if (m != null) {
            return m;
        }
        Path dir = ModelHolder.bundleDir(config);
        try {
            BundleManifest manifest = ModelBundle.readManifest(dir);
            DvaeConfig dc = Dvae.readConfig(dir.resolve(manifest.dvae().path()));
            PriorConfig pc = Checkpoints.readConfig(dir.resolve(manifest.prior().path()), DallePrior.KIND,
                    PriorConfig.class);
            m = ModelInfo.newBuilder().setBundleVersion(manifest.version())
                    .setPreset(manifest.preset() == null ? "" : manifest.preset()).setImageSize(dc.imageSize())
                    .setGridSize(pc.gridSize()).setTextLength(pc.textLength()).setTextVocabSize(pc.textVocab())
                    .setImageVocabSize(pc.imageVocab()).build();
            info = m;
            state = "ready: serving bundle " + m.getBundleVersion();
            return m;
        } catch (RuntimeException e) {
            state = "cannot read the model bundle at " + dir.toAbsolutePath() + " (set dalle.model): "
                    + e.getMessage();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, state, e);
        }
    }

    /** Whether the gateway role runs here. */
    public boolean enabled() {
        return enabled;
    }

    /** Whether the gateway can serve (it knows the bundle). */
    public boolean ready() {
        try {
            return model() != null;
        } catch (StageException e) {
            return false;
        }
    }

    public String state() {
        return state;
    }

    @Override
    public GatewayCore core() {
        if (!enabled) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE,
                    "the gateway role does not run in this process (dalle.roles=" + config.roles() + ")");
        }
        model();
        return core;
    }

    @Override
    public Jobs jobs() {
        core();
        if (jobs == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "jobs need Kafka, and dalle.kafka.enabled is"
                    + " false in this process");
        }
        return jobs;
    }

    @Override
    public ExecutorService executor() {
        return executor;
    }

    /**
     * Runs a generation on the gateway's bounded executor (as gRPC Generate does) and waits for it.
     *
     * @throws StageException RESOURCE_EXHAUSTED when the executor and its queue are full
     */
    public dalle.v1.GenerateResponse generate(dalle.v1.GenerateRequest request) {
        GatewayCore c = core();
        java.util.concurrent.Future<dalle.v1.GenerateResponse> f;
        try {
            f = executor.submit(() -> c.generate(request, null, e -> { }));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                    "gateway is at its limit of concurrent generations; retry later");
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (view != null) {
            view.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        if (clients != null) {
            clients.close();
        }
    }
}
