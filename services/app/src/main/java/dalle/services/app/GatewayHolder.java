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
import dalle.services.app.gateway.GatewayStreams;
import dalle.services.app.gateway.StreamsJobView;
import dalle.services.app.stage.Role;
import dalle.services.common.stage.StageException;
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
 * generations and, with Kafka on, the fan-in and the request-status view ({@link GatewayStreams}, Kafka Streams
 * apps of services/fanin) with {@link Jobs} reading the view. The gateway reads the bundle's sizes from its
 * manifest and configs (no weights), to check requests and report ModelInfo.
 */
@Singleton
public class GatewayHolder implements GatewayService.Access {

    private static final Logger LOG = Logger.getLogger(GatewayHolder.class);

    private final ServicesConfig config;
    private final boolean enabled;
    private final String bootstrapServers;
    private final int grpcPort;
    private volatile ModelInfo info;
    private volatile String state = "not started";
    private dalle.services.app.gateway.StageClients clients;
    private GatewayCore core;
    private ThreadPoolExecutor executor;
    private KafkaProducer<String, GenerationRequest> producer;
    private GatewayStreams streams;
    private Jobs jobs;

    public GatewayHolder(ServicesConfig config,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            @ConfigProperty(name = "quarkus.grpc.server.port", defaultValue = "9000") int grpcPort) {
        this.config = config;
        this.grpcPort = grpcPort;
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
            String instance = g.instanceId().orElseGet(() -> hostName() + "-" + grpcPort);
            Path stateDir = g.stateDir().map(Path::of).orElseGet(() ->
                    Path.of(System.getProperty("java.io.tmpdir"), "dalle-gateway-" + instance));
            streams = new GatewayStreams(bootstrapServers, stateDir, instance, g.fanInApplicationId(),
                    g.statusViewApplicationId());
            jobs = new Jobs(producer, new StreamsJobView(streams::view));
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

    /** Whether the gateway can serve: it knows the bundle and, with Kafka on, its Streams apps are RUNNING. */
    public boolean ready() {
        try {
            return model() != null && (streams == null || streams.running());
        } catch (StageException e) {
            return false;
        }
    }

    /** The bundle's state, then the Streams apps' state (with Kafka on). */
    public String state() {
        return streams == null ? state : state + "; " + streams.state();
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h.strip();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
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
        if (streams != null) {
            streams.close();
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
