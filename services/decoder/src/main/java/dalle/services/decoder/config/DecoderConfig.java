package dalle.services.decoder.config;

import dalle.services.common.grpc.ClientTlsConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Optional;

/**
 * Every {@code dalle.*} key of the decoder service (application.properties, {@code -Dkey=value}, or environment
 * variables such as {@code DALLE_MODEL}). Kafka's brokers are {@code kafka.bootstrap.servers}.
 */
@ConfigMapping(prefix = "dalle")
public interface DecoderConfig {

    /** The model bundle directory; only its bundle.json and dvae/ are read. Absent = models/tiny under dalle.home. */
    Optional<String> model();

    /** The dalle-jvm checkout or installation; the default bundle is models/tiny under it. */
    Optional<String> home();

    /** Calls waiting for the decoder thread; more are refused with RESOURCE_EXHAUSTED. */
    @WithName("queue-capacity")
    @WithDefault("64")
    int queueCapacity();

    /**
     * One-image dVAE passes run at once for one call or poll (each image still alone in its pass, so the images
     * do not depend on it). Absent = the cores libtorch's intra-op threads leave free: cores ÷
     * {@code ai.djl.pytorch.num_threads}, 1 when that is unset.
     */
    @WithName("decode-workers")
    Optional<Integer> decodeWorkers();

    /** The Kafka stage. */
    Kafka kafka();

    /** The decoder's channel to the reranker, for DecodeAndScore (the gateway's synchronous path). */
    Reranker reranker();

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

    /** {@code dalle.reranker.*} */
    interface Reranker {
        /**
         * The reranker's gRPC target: {@code host:port}, or {@code dns:///name:port} for a headless Service (every
         * address behind the name gets calls, round robin). Absent = DecodeAndScore is FAILED_PRECONDITION.
         */
        Optional<String> address();

        /** {@code dalle.reranker.tls.*}: TLS on the channel to the reranker ({@link ClientTlsConfig}). */
        ClientTlsConfig tls();
    }

    /** {@code dalle.kafka.*} */
    interface Kafka {
        /** Whether the Kafka stage (image-codes to candidate-images) runs. */
        @WithDefault("true")
        boolean enabled();

        /** Records per poll, decoded together. */
        @WithName("max-poll-records")
        @WithDefault("64")
        int maxPollRecords();

        /**
         * This process's stable identity in the consumer group ({@code group.instance.id} =
         * {@code <instance-id>-decoder}): a restarted process, even one killed, takes its partitions back at once.
         * Unique per process, the same across its restarts; absent = dynamic membership.
         */
        @WithName("instance-id")
        Optional<String> instanceId();
    }
}
