package dalle.services.gateway.fanin;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Where and as whom a Kafka Streams application of this module runs.
 *
 * @param bootstrap Kafka bootstrap servers, {@code HOST:PORT[,HOST:PORT...]}
 * @param applicationId the Streams application id: consumer group, prefix of internal topics, state folder name.
 *     Instances with the same id share the work (partitions); a different id is an independent copy.
 * @param stateDir where the local state (RocksDB) lives; a restart on the same folder resumes from it instead
 *     of replaying the changelog
 * @param startTimeout how long {@code start} waits for the application to reach RUNNING
 * @param overrides extra Streams/consumer/producer properties, applied last (e.g. {@code commit.interval.ms}).
 *     {@code group.instance.id} (unique per instance) makes the instance a static member: restarted within the
 *     session timeout it takes its partitions back at once, and {@code close()} then removes it from the group;
 *     without it a restarted instance waits up to the session timeout (45 s) for its old membership to expire.
 */
public record StreamsSettings(String bootstrap, String applicationId, Path stateDir, Duration startTimeout,
        Map<String, String> overrides) {

    private static final Pattern BOOTSTRAP = Pattern.compile("[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*");
    private static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");

    public StreamsSettings {
        Objects.requireNonNull(bootstrap, "bootstrap");
        if (!BOOTSTRAP.matcher(bootstrap).matches()) {
            throw new IllegalArgumentException("bootstrap '" + bootstrap + "' is not HOST:PORT[,HOST:PORT...]");
        }
        if (applicationId == null || !APP_ID.matcher(applicationId).matches()) {
            throw new IllegalArgumentException(
                    "applicationId '" + applicationId + "' is not 1..200 characters of [A-Za-z0-9._-]");
        }
        Objects.requireNonNull(stateDir, "stateDir");
        if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout " + startTimeout + " is not positive");
        }
        overrides = Map.copyOf(overrides);
    }

    /** Settings with a 60 s start timeout and no overrides. */
    public static StreamsSettings of(String bootstrap, String applicationId, Path stateDir) {
        return new StreamsSettings(bootstrap, applicationId, stateDir, Duration.ofSeconds(60), Map.of());
    }

    /** The same settings with {@code key=value} added to the overrides. */
    public StreamsSettings with(String key, String value) {
        Map<String, String> m = new java.util.HashMap<>(overrides);
        m.put(key, value);
        return new StreamsSettings(bootstrap, applicationId, stateDir, startTimeout, m);
    }

    /**
     * The Streams properties: exactly-once v2, one stream thread, the state folder, producers allowed to write
     * records up to {@code maxRecordBytes}, then the overrides.
     */
    Properties properties(int maxRecordBytes) {
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        p.put(StreamsConfig.producerPrefix("max.request.size"), Integer.toString(maxRecordBytes));
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
                Integer.toString(maxRecordBytes));
        p.putAll(overrides);
        return p;
    }
}
