package dalle.services.sampler.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Optional;

/**
 * Every {@code dalle.*} key of the sampler service (application.properties, {@code -Dkey=value}, or environment
 * variables such as {@code DALLE_SAMPLER_MAX_BATCH}). Kafka's brokers are {@code kafka.bootstrap.servers}.
 */
@ConfigMapping(prefix = "dalle")
public interface SamplerConfig {

    /** The model bundle directory; only its bundle.json and prior/ are read. Absent = models/tiny under dalle.home. */
    Optional<String> model();

    /** The dalle-jvm checkout or installation; the default bundle is models/tiny under it. */
    Optional<String> home();

    /** Batching. */
    Sampler sampler();

    /** The Kafka stage. */
    Kafka kafka();

    /** The gRPC server. */
    Grpc grpc();

    /** {@code dalle.grpc.*} */
    interface Grpc {
        /**
         * A client connection is closed (gracefully) after this age, so that clients balancing over a headless
         * Service re-resolve it and spread over replicas added since.
         */
        @WithName("max-connection-age")
        @WithDefault("5m")
        Duration maxConnectionAge();
    }

    /** {@code dalle.sampler.*} */
    interface Sampler {
        /** Most candidates per batched forward loop, across requests. */
        @WithName("max-batch")
        @WithDefault("64")
        int maxBatch();

        /**
         * {@code static}: a batch starts when full or after max-delay and runs all image tokens; {@code continuous}:
         * candidates join the running batch between token steps and leave when their grid is complete. Static is
         * the default: on the 2-core CPU machine measured, continuous did not lower p99 ({@code dalle bench arrivals},
         * services/sampler/README.md).
         */
        @WithDefault("static")
        String batching();

        /** Longest a candidate waits for others to fill its batch (static batching only). */
        @WithName("max-delay")
        @WithDefault("5ms")
        Duration maxDelay();

        /** Most candidates waiting; a gRPC request that does not fit is RESOURCE_EXHAUSTED, a Kafka poll waits. */
        @WithName("queue-capacity")
        @WithDefault("1024")
        int queueCapacity();
    }

    /** {@code dalle.kafka.*} */
    interface Kafka {
        /** Whether the Kafka stage (tokenized-requests to image-codes) runs. */
        @WithDefault("true")
        boolean enabled();

        /** Requests per poll; their candidates batch together. */
        @WithName("max-poll-records")
        @WithDefault("16")
        int maxPollRecords();

        /**
         * This process's stable identity in the consumer group ({@code group.instance.id} =
         * {@code <instance-id>-sampler}): a restarted process, even one killed, takes its partitions back at once.
         * Unique per process, the same across its restarts; absent = dynamic membership.
         */
        @WithName("instance-id")
        Optional<String> instanceId();
    }
}
