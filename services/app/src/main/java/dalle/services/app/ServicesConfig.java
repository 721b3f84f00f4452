package dalle.services.app;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Optional;

/**
 * Every {@code dalle.*} key of the application (set in application.properties, as {@code -Dkey=value}, or as
 * environment variables such as {@code DALLE_ROLES}).
 */
@ConfigMapping(prefix = "dalle")
public interface ServicesConfig {

    /** Roles this process runs: a comma list of tokenizer, sampler, decoder, reranker, gateway, or "all". */
    @WithDefault("all")
    String roles();

    /** The model bundle directory; absent = models/tiny (relative to dalle.home if set) when it exists. */
    Optional<String> model();

    /**
     * The dalle-jvm checkout or installation ({@code -Ddalle.home}, set by the launcher); the default bundle is
     * models/tiny under it.
     */
    Optional<String> home();

    /** Sampler batching. */
    Sampler sampler();

    /** Calls waiting per tokenizer/decoder/reranker queue; more are refused with RESOURCE_EXHAUSTED. */
    @WithName("queue-capacity")
    @WithDefault("64")
    int queueCapacity();

    /** Kafka stages. */
    Kafka kafka();

    /** The gateway role. */
    Gateway gateway();

    /** {@code dalle.sampler.*} */
    interface Sampler {
        /** Most candidates per batched forward loop. */
        @WithName("max-batch")
        @WithDefault("64")
        int maxBatch();

        /** Longest a candidate waits for others to fill its batch. */
        @WithName("max-delay")
        @WithDefault("5ms")
        Duration maxDelay();

        /** Most candidates waiting; a request that does not fit is RESOURCE_EXHAUSTED. */
        @WithName("queue-capacity")
        @WithDefault("1024")
        int queueCapacity();
    }

    /** {@code dalle.kafka.*} (the brokers are {@code kafka.bootstrap.servers}). */
    interface Kafka {
        /** Whether the model roles run their Kafka stages and the gateway its jobs. */
        @WithDefault("true")
        boolean enabled();

        /** Records per poll of the sampler stage (its candidates batch together). */
        @WithName("sampler-max-poll-records")
        @WithDefault("16")
        int samplerMaxPollRecords();

        /** Records per poll of the other stages. */
        @WithName("max-poll-records")
        @WithDefault("64")
        int maxPollRecords();

        /**
         * This process's stable identity in the stage consumer groups: {@code group.instance.id} =
         * {@code <instance-id>-<stage>} (static membership), so a restarted process, even one killed, takes its
         * partitions back at once. Unique per process, the same across its restarts; absent = dynamic membership
         * (a killed member's partitions wait for its 45 s session timeout).
         */
        @WithName("instance-id")
        Optional<String> instanceId();

        /** The local broker's classpath ({@code dalle.kafka.lib}, read by dalle up and tests, not by the services). */
        Optional<String> lib();
    }

    /** {@code dalle.gateway.*} */
    interface Gateway {
        /** The tokenizer's gRPC address, host:port. */
        @WithName("tokenizer-address")
        @WithDefault("localhost:9000")
        String tokenizerAddress();

        @WithName("sampler-address")
        @WithDefault("localhost:9000")
        String samplerAddress();

        @WithName("decoder-address")
        @WithDefault("localhost:9000")
        String decoderAddress();

        @WithName("reranker-address")
        @WithDefault("localhost:9000")
        String rerankerAddress();

        /** Deadline of a Generate call that brings none, and of every HTTP generation. */
        @WithName("default-timeout")
        @WithDefault("5m")
        Duration defaultTimeout();

        /** Generations running at once; more wait in a queue of the same size, then RESOURCE_EXHAUSTED. */
        @WithDefault("8")
        int concurrency();

        /**
         * Local state (RocksDB) of the fan-in and the status view; absent = {@code dalle-gateway-<instance id>}
         * under {@code java.io.tmpdir}. State lost with the folder is rebuilt from its changelog topics.
         */
        @WithName("state-dir")
        Optional<String> stateDir();

        /**
         * This gateway's stable identity in the Streams groups ({@code group.instance.id} prefix), the same across
         * restarts and different between gateways; absent = {@code <HOSTNAME>-<gRPC port>}.
         */
        @WithName("instance-id")
        Optional<String> instanceId();

        /** The fan-in's Kafka Streams application id; gateways with the same id split the requests. */
        @WithName("fan-in-application-id")
        @WithDefault("dalle-fan-in")
        String fanInApplicationId();

        /**
         * The status view's application id. Replicas sharing it each answer GetJob for their own partitions; a
         * replica with an id of its own answers for every request.
         */
        @WithName("status-view-application-id")
        @WithDefault("dalle-status-view")
        String statusViewApplicationId();
    }
}
