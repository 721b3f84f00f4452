package dalle.services.gateway.fanin;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.jboss.logging.Logger;

/**
 * The gateway's Kafka Streams applications: the fan-in (candidate-scores to exactly one generation-result per
 * request) and the request-status view that GetJob reads, both from {@code services/fanin}. They start on a
 * background thread (the HTTP and gRPC servers answer meanwhile) and are retried every {@value #RETRY_SECONDS} s
 * until they run (e.g. while the topics do not exist yet).
 *
 * <p>Each application keeps its local state (RocksDB) under {@code stateDir} and is a static group member
 * ({@code group.instance.id} = {@code instanceId}-fan-in / -status-view), so a gateway restarted within the session
 * timeout takes its partitions back at once instead of waiting 45 s for its old membership to expire. Two
 * gateways must not share an instance id.
 */
public final class GatewayStreams implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(GatewayStreams.class);
    static final int RETRY_SECONDS = 5;

    private final StreamsSettings fanInSettings;
    private final StreamsSettings viewSettings;
    private final Thread starter;
    private volatile boolean closed;
    private volatile FanIn fanIn;
    private volatile StatusView view;
    private volatile String state = "starting the fan-in and the status view";

    /**
     * Starts both applications in the background.
     *
     * @param bootstrap Kafka bootstrap servers
     * @param stateDir the local state folder (one sub-folder per application id)
     * @param instanceId this gateway's stable identity among the group members
     * @param fanInApplicationId the fan-in's application id (shared by gateways that split the work)
     * @param viewApplicationId the status view's application id
     */
    public GatewayStreams(String bootstrap, Path stateDir, String instanceId, String fanInApplicationId,
            String viewApplicationId) {
        this.fanInSettings = settings(bootstrap, fanInApplicationId, stateDir, instanceId + "-fan-in");
        this.viewSettings = settings(bootstrap, viewApplicationId, stateDir, instanceId + "-status-view");
        this.starter = new Thread(this::startAll, "gateway-streams-start");
        starter.setDaemon(true);
        starter.start();
    }

    private static StreamsSettings settings(String bootstrap, String applicationId, Path stateDir, String member) {
        return new StreamsSettings(bootstrap, applicationId, stateDir, Duration.ofSeconds(60), java.util.Map.of())
                .with(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, member)
                // a SIGKILLed gateway's static membership expires after this; a restart comes back sooner
                .with(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "15000");
    }

    private void startAll() {
        while (!closed && (fanIn == null || view == null)) {
            try {
                if (fanIn == null) {
                    FanIn f = FanIn.start(fanInSettings);
                    synchronized (this) {
                        if (closed) {
                            f.close();
                            return;
                        }
                        fanIn = f;
                    }
                }
                StatusView v = StatusView.start(viewSettings);
                synchronized (this) {
                    if (closed) {
                        v.close();
                        return;
                    }
                    view = v;
                }
                state = "fan-in and status view running";
                LOG.info("gateway: the fan-in and the request-status view run");
            } catch (IOException | RuntimeException e) {
                state = "fan-in/status view not running (retrying every " + RETRY_SECONDS + " s): " + e.getMessage();
                LOG.warn(state);
                try {
                    Thread.sleep(RETRY_SECONDS * 1000L);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** The status view once it runs; null before. */
    public StatusView view() {
        return view;
    }

    /** Whether both applications are RUNNING now. */
    public boolean running() {
        FanIn f = fanIn;
        StatusView v = view;
        return f != null && v != null && f.state() == KafkaStreams.State.RUNNING
                && v.state() == KafkaStreams.State.RUNNING;
    }

    /** "fan-in RUNNING, status view RUNNING", or why they do not run yet. */
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
        starter.interrupt();
        if (v != null) {
            v.close();
        }
        if (f != null) {
            f.close();
        }
    }
}
