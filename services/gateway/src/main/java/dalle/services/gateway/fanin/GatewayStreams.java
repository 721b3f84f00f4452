package dalle.services.gateway.fanin;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.jboss.logging.Logger;

/**
 * The gateway's Kafka Streams applications: the fan-in (candidate-scores to exactly one generation-result per
 * request) and the request-status view that GetJob reads. A supervisor thread starts them, and starts again, after
 * a backoff that doubles up to {@value #MAX_BACKOFF_SECONDS} s, any that is not running (it failed to start, or
 * shut down after its stream threads kept dying): the synchronous API stays up meanwhile, and the gateway is not
 * ready. An application down for longer than {@code deadAfter} makes the gateway not alive
 * ({@link #deadFor()}), so Kubernetes restarts it as a last resort.
 *
 * <p>Each application keeps its local state (RocksDB) under {@code stateDir} and is a static group member
 * ({@code group.instance.id} = {@code instanceId}-fan-in / -status-view), so a gateway restarted within the session
 * timeout takes its partitions back at once. Two gateways must not share an instance id.
 */
public final class GatewayStreams implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(GatewayStreams.class);
    static final int MAX_BACKOFF_SECONDS = 60;

    /**
     * How the gateway's applications run.
     *
     * @param bootstrap Kafka bootstrap servers
     * @param stateDir the local state folder (one sub-folder per application id)
     * @param instanceId this gateway's stable identity among the group members
     * @param fanInApplicationId the fan-in's application id (shared by gateways that split the work)
     * @param viewApplicationId the status view's application id
     * @param maxRequestAge how long after submission a request may be pending before it fails
     * @param jobRetention how long a finished job stays readable
     * @param client more Kafka client properties (security settings)
     * @param advertised this gateway's gRPC address as its peers reach it ({@code host:port}): the status view's
     *     {@code application.server}, so that a replica can tell which replica holds a job; null = none (a view
     *     that answers only for its own partitions)
     */
    public record Options(String bootstrap, Path stateDir, String instanceId, String fanInApplicationId,
                          String viewApplicationId, Duration maxRequestAge, Duration jobRetention,
                          Map<String, String> client, String advertised) {

        /** Without an advertised address. */
        public Options(String bootstrap, Path stateDir, String instanceId, String fanInApplicationId,
                String viewApplicationId, Duration maxRequestAge, Duration jobRetention, Map<String, String> client) {
            this(bootstrap, stateDir, instanceId, fanInApplicationId, viewApplicationId, maxRequestAge, jobRetention,
                    client, null);
        }
    }

    private final Options options;
    private final StreamsSettings fanInSettings;
    private final StreamsSettings viewSettings;
    private final Thread supervisor;
    private volatile boolean closed;
    private volatile FanIn fanIn;
    private volatile StatusView view;
    private volatile long downSinceNanos = System.nanoTime();
    private volatile String state = "starting the fan-in and the status view";

    /** Starts both applications in the background. */
    public GatewayStreams(Options options) {
        this.options = options;
        this.fanInSettings = settings(options, options.fanInApplicationId(), options.instanceId() + "-fan-in");
        StreamsSettings view = settings(options, options.viewApplicationId(), options.instanceId() + "-status-view");
        this.viewSettings = options.advertised() == null ? view
                : view.with(org.apache.kafka.streams.StreamsConfig.APPLICATION_SERVER_CONFIG, options.advertised());
        this.supervisor = new Thread(this::supervise, "gateway-streams-supervisor");
        supervisor.setDaemon(true);
        supervisor.start();
    }

    private static StreamsSettings settings(Options o, String applicationId, String member) {
        StreamsSettings s = new StreamsSettings(o.bootstrap(), applicationId, o.stateDir(), Duration.ofSeconds(60),
                Map.of())
                .with(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, member)
                // a SIGKILLed gateway's static membership expires after this; a restart comes back sooner
                .with(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "15000");
        for (var e : o.client().entrySet()) {
            s = s.with(e.getKey(), e.getValue());
        }
        return s;
    }

    private static boolean dead(KafkaStreams.State s) {
        return s == KafkaStreams.State.ERROR || s == KafkaStreams.State.NOT_RUNNING
                || s == KafkaStreams.State.PENDING_ERROR || s == KafkaStreams.State.PENDING_SHUTDOWN;
    }

    private void supervise() {
        long backoff = 1;
        while (!closed) {
            try {
                FanIn f = fanIn;
                if (f == null || dead(f.state())) {
                    replaceFanIn(f);
                }
                StatusView v = view;
                if (v == null || dead(v.state())) {
                    replaceView(v);
                }
                if (running()) {
                    downSinceNanos = 0;
                    state = "fan-in and status view running";
                    backoff = 1;
                } else if (downSinceNanos == 0) {
                    downSinceNanos = System.nanoTime();
                }
                sleep(5);
            } catch (IOException | RuntimeException e) {
                if (downSinceNanos == 0) {
                    downSinceNanos = System.nanoTime();
                }
                state = "fan-in/status view not running (starting again in " + backoff + " s): " + e.getMessage();
                LOG.warn(state);
                sleep(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_SECONDS);
            }
        }
    }

    private void replaceFanIn(FanIn old) throws IOException {
        if (old != null) {
            LOG.warn("gateway: the fan-in is " + old.state() + "; starting it again");
            old.close();
        }
        FanIn f = FanIn.start(fanInSettings, options.maxRequestAge());
        synchronized (this) {
            if (closed) {
                f.close();
                return;
            }
            fanIn = f;
        }
    }

    private void replaceView(StatusView old) throws IOException {
        if (old != null) {
            LOG.warn("gateway: the status view is " + old.state() + "; starting it again");
            old.close();
        }
        StatusView v = StatusView.start(viewSettings, options.jobRetention());
        synchronized (this) {
            if (closed) {
                v.close();
                return;
            }
            view = v;
        }
    }

    private void sleep(long seconds) {
        try {
            Thread.sleep(seconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** The fan-in now (for tests that stop it behind the supervisor's back); null before it first started. */
    FanIn fanIn() {
        return fanIn;
    }

    /** This gateway's advertised gRPC address (the view's application.server); null when none. */
    public String advertised() {
        return options.advertised();
    }

    /** The status view while it runs; null before (or while it is started again). */
    public StatusView view() {
        StatusView v = view;
        return v == null || dead(v.state()) ? null : v;
    }

    /** Whether both applications are RUNNING now. */
    public boolean running() {
        FanIn f = fanIn;
        StatusView v = view;
        return f != null && v != null && f.state() == KafkaStreams.State.RUNNING
                && v.state() == KafkaStreams.State.RUNNING;
    }

    /** How long an application has not been running (zero while both run). */
    public Duration deadFor() {
        long since = downSinceNanos;
        return since == 0 || running() ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    /** "fan-in RUNNING, status view RUNNING", or why they do not run. */
    public String state() {
        FanIn f = fanIn;
        StatusView v = view;
        if (f == null || v == null) {
            return state;
        }
        return "fan-in " + f.state() + ", status view " + v.state();
    }

    @Override
    public void close() {
        FanIn f;
        StatusView v;
        synchronized (this) {
            closed = true;
            f = fanIn;
            v = view;
        }
        supervisor.interrupt();
        if (v != null) {
            v.close();
        }
        if (f != null) {
            f.close();
        }
    }
}
