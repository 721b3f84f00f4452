package dalle.services.gateway.config;

import dalle.services.common.grpc.ClientTlsConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Optional;

/**
 * Every {@code dalle.*} key of the gateway (application.properties, {@code -Dkey=value}, or environment variables
 * such as {@code DALLE_GATEWAY_SAMPLER_ADDRESS}). Kafka's brokers are {@code kafka.bootstrap.servers}.
 */
@ConfigMapping(prefix = "dalle")
public interface GatewayConfig {

    /** The gateway. */
    Gateway gateway();

    /** Kafka: the jobs API and the fan-in. */
    Kafka kafka();

    /** Who may call: API keys and their tenants. */
    Auth auth();

    /** {@code dalle.auth.*} */
    interface Auth {
        /**
         * Whether HTTP /v1/* and gRPC calls need an API key ({@code Authorization: Bearer <key>}). On by default;
         * turning it off is an explicit {@code false}, for a gateway nobody else can reach.
         */
        @WithDefault("true")
        boolean enabled();

        /**
         * The keys file: one line per key, {@code <sha256-hex of the key> <tenant> [label]} (a Kubernetes Secret
         * mounted as a file, or the file {@code dalle up} writes). Required while enabled.
         */
        @WithName("api-keys-file")
        Optional<String> apiKeysFile();

        /** How often the keys file is checked for changes (rotated keys apply without a restart). */
        @WithName("reload-interval")
        @WithDefault("5s")
        Duration reloadInterval();
    }

    /** {@code dalle.kafka.*} */
    interface Kafka {
        /** Whether the gateway takes jobs (SubmitJob, POST /v1/jobs) and runs the fan-in and the status view. */
        @WithDefault("true")
        boolean enabled();
    }

    /**
     * {@code dalle.gateway.tls.*}: TLS on the channels to the stages ({@link ClientTlsConfig}), and the name peer
     * gateway replicas' certificates carry.
     */
    interface StageTls extends ClientTlsConfig {
        /**
         * The name peer gateway replicas' certificates are checked against: they are reached by pod IP
         * ({@code advertised-address}), which a certificate does not name; e.g. {@code gateway}.
         */
        @WithName("peer-authority")
        Optional<String> peerAuthority();
    }

    /** {@code dalle.gateway.*} */
    interface Gateway {
        /**
         * The tokenizer's gRPC target: {@code host:port}, or {@code dns:///name:port} for a headless Service
         * (every address behind the name gets calls, round robin).
         */
        @WithName("tokenizer-address")
        @WithDefault("localhost:9000")
        String tokenizerAddress();

        /** The sampler's gRPC target (as tokenizer-address). */
        @WithName("sampler-address")
        @WithDefault("localhost:9000")
        String samplerAddress();

        /** The decoder's gRPC target (as tokenizer-address). */
        @WithName("decoder-address")
        @WithDefault("localhost:9000")
        String decoderAddress();

        /** The reranker's gRPC target (as tokenizer-address). */
        @WithName("reranker-address")
        @WithDefault("localhost:9000")
        String rerankerAddress();

        /** How the gateway's channels to the stages are secured. */
        StageTls tls();

        /**
         * How a synchronous Generate reaches the decoder and the reranker: {@code thin} sends the grids to the
         * decoder's DecodeAndScore, which scores through the reranker itself and returns the scores and only the
         * top_k images; {@code relay} calls the decoder's Decode and then the reranker's Score (every image through
         * the gateway). A call's {@code dalle-sync-path} header overrides it (for comparing the two). The default is
         * {@code relay}: {@code dalle bench services} measured no gain for {@code thin} on CPU (p50 thin / relay
         * 1.00-1.01x), and it adds a stage-to-stage hop (decoder to reranker) to secure and to trace.
         */
        @WithName("sync-path")
        @WithDefault("relay")
        dalle.services.gateway.GatewayCore.SyncPath syncPath();

        /** Deadline of a Generate call that brings none, and of every HTTP generation. */
        @WithName("default-timeout")
        @WithDefault("5m")
        Duration defaultTimeout();

        /**
         * The most generations running at once. Fewer are admitted while generations take more than
         * {@code latency-tolerance} times the unloaded latency (an adaptive limit); beyond the limit a request is
         * refused at once with RESOURCE_EXHAUSTED (HTTP 429).
         */
        @WithDefault("8")
        int concurrency();

        /**
         * How many times its unloaded latency (per candidate, the fastest of the last minutes) a generation may take
         * before the gateway admits fewer at once; above 1.
         */
        @WithName("latency-tolerance")
        @WithDefault("2.0")
        double latencyTolerance();

        /**
         * A request still incomplete this long after its submission fails with DEADLINE_EXCEEDED on
         * generation-results (the fan-in's sweep), whatever its own deadline: no request waits forever.
         */
        @WithName("max-request-age")
        @WithDefault("30m")
        Duration maxRequestAge();

        /** The deadline a job (SubmitJob, POST /v1/jobs) gets: it fails DEADLINE_EXCEEDED if not done by then. */
        @WithName("job-deadline")
        @WithDefault("10m")
        Duration jobDeadline();

        /** How long a finished job stays readable (GetJob, GET /v1/jobs/{id}); then NOT_FOUND. */
        @WithName("job-retention")
        @WithDefault("24h")
        Duration jobRetention();

        /**
         * Job submissions and lookups being served at once; as many more may wait, then RESOURCE_EXHAUSTED (HTTP
         * 429): a gateway that cannot reach Kafka fast sheds load instead of piling up blocked calls.
         */
        @WithName("job-concurrency")
        @WithDefault("4")
        int jobConcurrency();

        /** The fan-in or the status view down for longer than this makes the gateway not alive (liveness). */
        @WithName("streams-dead-after")
        @WithDefault("3m")
        Duration streamsDeadAfter();

        /** How often the gateway asks every stage which bundle it serves (GetModelInfo). */
        @WithName("model-check-interval")
        @WithDefault("10s")
        Duration modelCheckInterval();

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

        /**
         * This gateway's gRPC address as the other gateway replicas reach it ({@code host:port}; on Kubernetes the
         * pod IP, {@code $(POD_IP):9000}); absent = {@code <host name>:<gRPC port>}. Replicas sharing the status
         * view find which one holds a job by it and ask that one (GetJob and GET /v1/jobs/{id} answer the same on
         * every replica).
         */
        @WithName("advertised-address")
        Optional<String> advertisedAddress();

        /**
         * How long an image returned as a URL ({@code response_format=url}) can be fetched from
         * {@code GET /v1/images/files/{id}}; then 404 (OpenAI's own image URLs last an hour).
         */
        @WithName("image-url-ttl")
        @WithDefault("1h")
        Duration imageUrlTtl();

        /**
         * Most bytes of PNG the gateway keeps for image URLs (in memory). Past it the oldest images are dropped
         * first, so under load a URL may 404 before its expiry; one response never drops its own images.
         */
        @WithName("image-store-bytes")
        @WithDefault("67108864")
        long imageStoreBytes();

        /**
         * The base URL clients reach this gateway at (e.g. {@code https://images.example.com/}), used in image
         * URLs; absent = the base URL of the request (Host header, or X-Forwarded-* with
         * {@code quarkus.http.proxy.proxy-address-forwarding}).
         */
        @WithName("public-url")
        Optional<String> publicUrl();

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
