package dalle.services.gateway;

import dalle.services.common.Topics;
import dalle.services.common.grpc.ChannelTls;
import dalle.services.common.kafka.CloudEvents;
import dalle.services.common.kafka.KafkaSecurity;
import dalle.services.common.kafka.KafkaTracing;
import dalle.services.common.stage.StageException;
import dalle.services.gateway.config.GatewayConfig;
import dalle.services.gateway.fanin.GatewayStreams;
import dalle.services.gateway.grpc.GatewayHealth;
import dalle.services.gateway.grpc.GatewayPeers;
import dalle.services.gateway.grpc.GatewayService;
import dalle.services.gateway.jobs.Jobs;
import dalle.services.gateway.jobs.StreamsJobStates;
import dalle.v1.ErrorCode;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationRequest;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.quarkus.grpc.GrpcService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The gateway's parts: channels to the stages, what the stages serve ({@link StageModels}, asked every
 * {@code dalle.gateway.model-check-interval}), {@link GatewayCore}, the bounded executor of running generations
 * and, with Kafka on, the fan-in and the request-status view ({@link GatewayStreams}) with {@link Jobs}. The
 * gateway holds no model and no libtorch: it serves (gRPC health SERVING, ready) only while the four stages
 * agree on one bundle and, with Kafka on, its two Streams applications run.
 */
@Singleton
public class GatewayRuntime implements GatewayService.Access {

    private static final Logger LOG = Logger.getLogger(GatewayRuntime.class);

    private final GatewayConfig config;
    private final String bootstrapServers;
    private final KafkaSecurity kafkaSecurity;
    private final int grpcPort;
    private final GatewayHealth health;
    private final OpenTelemetry telemetry;
    private final KafkaTracing tracing;
    private StageClients clients;
    private StageModels models;
    private GatewayCore core;
    private ThreadPoolExecutor executor;
    private ThreadPoolExecutor jobExecutor;
    /** The two executors, each task run in its submitter's trace context (its stage calls and records are children). */
    private ExecutorService tracedExecutor;
    private ExecutorService tracedJobExecutor;
    private AdmissionLimit admission;
    private ScheduledExecutorService checker;
    private KafkaProducer<String, GenerationRequest> producer;
    private KafkaProducer<String, GenerationEvent> events;
    private GatewayPeers peers;
    private GatewayStreams streams;
    private Jobs jobs;

    public GatewayRuntime(GatewayConfig config, @GrpcService GatewayHealth health,
            @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092") String bootstrap,
            @ConfigProperty(name = "quarkus.grpc.server.port", defaultValue = "9000") int grpcPort,
            Config kafkaConfig, OpenTelemetry telemetry) {
        this.config = config;
        this.telemetry = telemetry;
        this.tracing = new KafkaTracing(telemetry);
        // kafka.security.protocol, kafka.sasl.*, kafka.ssl.*: checked now, so a wrong key fails the start
        this.kafkaSecurity = config.kafka().enabled()
                ? KafkaSecurity.from(key -> kafkaConfig.getOptionalValue(key, String.class)) : KafkaSecurity.PLAINTEXT;
        this.health = health;
        this.grpcPort = grpcPort;
        this.bootstrapServers = bootstrap;
    }

    void start(@Observes StartupEvent event) {
        var g = config.gateway();
        var tc = g.tls();
        ChannelTls ct = tc.channelTls("dalle.gateway.tls");
        StageClients.Tls tls = new StageClients.Tls(ct.enabled(), ct.trustCertificates(), ct.certificate(), ct.key(),
                tc.authority().orElse(null));
        clients = new StageClients(g.tokenizerAddress(), g.samplerAddress(), g.decoderAddress(), g.rerankerAddress(),
                tls, telemetry);
        models = new StageModels(clients);
        core = new GatewayCore(clients, models::info, g.defaultTimeout(), g.syncPath());
        admission = new AdmissionLimit(g.concurrency(), g.latencyTolerance());
        executor = new ThreadPoolExecutor(g.concurrency(), g.concurrency(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(g.concurrency()), r -> {
                    Thread t = new Thread(r, "gateway-generate");
                    t.setDaemon(true);
                    return t;
                });
        if (config.kafka().enabled()) {
            Properties p = new Properties();
            p.putAll(kafkaSecurity.properties());
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            // a broker away makes a submission fail in seconds, not hold a thread for a minute
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            producer = new KafkaProducer<>(p, new StringSerializer(),
                    Topics.GENERATION_REQUESTS.valueSerde().serializer());
            events = new KafkaProducer<>(p, new StringSerializer(), Topics.GENERATION_EVENTS.valueSerde().serializer());
            String instance = g.instanceId().orElseGet(() -> hostName() + "-" + grpcPort);
            Path stateDir = g.stateDir().map(Path::of).orElseGet(() ->
                    Path.of(System.getProperty("java.io.tmpdir"), "dalle-gateway-" + instance));
            String advertised = g.advertisedAddress().orElseGet(() -> hostName() + ":" + grpcPort);
            streams = new GatewayStreams(new GatewayStreams.Options(bootstrapServers, stateDir, instance,
                    g.fanInApplicationId(), g.statusViewApplicationId(), g.maxRequestAge(), g.jobRetention(),
                    kafkaSecurity.properties(), advertised));
            peers = new GatewayPeers(new StageClients.Tls(tls.enabled(), tls.trustCertificates(), tls.certificate(),
                    tls.key(), tc.peerAuthority().orElse(null)));
            jobs = new Jobs(producer, new StreamsJobStates(streams::view, advertised), g.jobDeadline(), peers,
                    e -> {
                        // CloudEvents headers and the submission's trace, as on every record the services write
                        Headers headers = CloudEvents.add(new RecordHeaders(), e, CloudEvents.source(
                                dalle.v1.Stage.STAGE_GATEWAY));
                        Span span = tracing.publish(Context.current(), Topics.GENERATION_EVENTS.name(),
                                e.getRequestId(), headers);
                        events.send(new ProducerRecord<>(Topics.GENERATION_EVENTS.name(), null, e.getRequestId(), e,
                                headers), (meta, error) -> {
                                    KafkaTracing.end(span, error);
                                    if (error != null) {
                                        LOG.warn("gateway: job " + e.getRequestId() + "'s QUEUED event was not "
                                                + "written (" + error.getMessage() + "); other replicas see it at its"
                                                + " first stage");
                                    }
                                });
                    }, tracing);
        }
        jobExecutor = new ThreadPoolExecutor(g.jobConcurrency(), g.jobConcurrency(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(g.jobConcurrency()), r -> {
                    Thread t = new Thread(r, "gateway-jobs");
                    t.setDaemon(true);
                    return t;
                });
        tracedExecutor = Context.taskWrapping(executor);
        tracedJobExecutor = Context.taskWrapping(jobExecutor);
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gateway-model-check");
            t.setDaemon(true);
            return t;
        });
        // quickly until the stages first agree, then at the configured interval
        checker.execute(this::checkUntilAgreed);
    }

    private void checkUntilAgreed() {
        boolean was = models.agreed();
        boolean now = models.refresh();
        if (now != was) {
            LOG.info("gateway: " + models.state());
        }
        health.serving(ready());
        long delay = now ? config.gateway().modelCheckInterval().toMillis() : 500;
        try {
            checker.schedule(this::checkUntilAgreed, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // stopped
        }
    }

    /** Whether the gateway can serve: the stages agree on a bundle and, with Kafka on, its Streams apps run. */
    public boolean ready() {
        return models != null && models.agreed() && (streams == null || streams.running());
    }

    /** What the stages serve, then the Streams apps' state (with Kafka on). */
    public String state() {
        if (models == null) {
            return "starting";
        }
        return streams == null ? models.state() : models.state() + "; " + streams.state();
    }

    /** The Streams applications, null with Kafka off. */
    public GatewayStreams streams() {
        return streams;
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
        models.info(); // UNAVAILABLE, saying why, while the stages do not agree
        return core;
    }

    @Override
    public Jobs jobs() {
        core();
        if (jobs == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "jobs need Kafka, and dalle.kafka.enabled is"
                    + " false in this gateway");
        }
        return jobs;
    }

    @Override
    public ExecutorService executor() {
        return tracedExecutor;
    }

    @Override
    public ExecutorService jobExecutor() {
        return tracedJobExecutor;
    }

    @Override
    public AdmissionLimit admission() {
        return admission;
    }

    /** Why the gateway is not alive (its Streams apps down too long); null while it is. */
    public String notAlive() {
        if (streams == null) {
            return null;
        }
        Duration down = streams.deadFor();
        return down.compareTo(config.gateway().streamsDeadAfter()) > 0 ? "the fan-in or the status view has not run for "
                + down.toSeconds() + " s: " + streams.state() : null;
    }

    /**
     * Runs a generation on the gateway's bounded executor (as gRPC Generate does) and waits for it.
     *
     * @throws StageException RESOURCE_EXHAUSTED when the executor and its queue are full
     */
    public GenerateResponse generate(GenerateRequest request) {
        return generate(request, cancel -> { });
    }

    /**
     * As {@link #generate(GenerateRequest)}, handing {@code onCallerGone} the action that cancels the generation
     * (its stage calls are cancelled, so the sampler stops its candidates): an HTTP client that disconnects does not
     * leave its generation running.
     */
    public GenerateResponse generate(GenerateRequest request, Consumer<Runnable> onCallerGone) {
        return generate(request, e -> { }, onCallerGone);
    }

    /**
     * As {@link #generate(GenerateRequest, Consumer)}, telling {@code progress} each stage's progress as
     * GenerateStream does (the HTTP stream of the web page).
     */
    public GenerateResponse generate(GenerateRequest request, Consumer<GenerationEvent> progress,
                                     Consumer<Runnable> onCallerGone) {
        GatewayCore c = core();
        AdmissionLimit.Permit permit = admission.tryAcquire(AdmissionLimit.candidates(request)).orElseThrow(() ->
                new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                        "gateway is at its limit of concurrent generations; retry later"));
        Future<GenerateResponse> f;
        try {
            // the caller's context (its tenant) goes with the generation
            f = tracedExecutor.submit(io.grpc.Context.current().wrap(() -> c.generate(request, null, progress)));
        } catch (RejectedExecutionException e) {
            permit.release(false);
            throw new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                    "gateway is at its limit of concurrent generations; retry later");
        }
        onCallerGone.accept(() -> f.cancel(true));
        boolean completed = false;
        try {
            GenerateResponse r = f.get();
            completed = true;
            return r;
        } catch (CancellationException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "the caller went away; generation cancelled", e);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            permit.release(completed);
        }
    }

    /**
     * Runs a job call (submission or lookup, which may wait on Kafka) on the bounded jobs executor, as gRPC's
     * SubmitJob and GetJob do, and waits for it.
     *
     * @throws StageException RESOURCE_EXHAUSTED when the executor and its queue are full
     */
    public <T> T jobCall(Supplier<T> call) {
        Future<T> f;
        try {
            f = tracedJobExecutor.submit(io.grpc.Context.current().wrap(call::get));
        } catch (RejectedExecutionException e) {
            throw new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                    "the gateway is at its limit of job calls; retry later");
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        health.serving(false);
        if (checker != null) {
            checker.shutdownNow();
        }
        if (streams != null) {
            streams.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (events != null) {
            events.close();
        }
        if (peers != null) {
            peers.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        if (jobExecutor != null) {
            jobExecutor.shutdownNow();
        }
        if (clients != null) {
            clients.close();
        }
    }
}
