package dalle.services.gateway;

import dalle.services.common.grpc.ChannelTls;
import dalle.v1.DecoderGrpc;
import dalle.v1.RerankerGrpc;
import dalle.v1.SamplerGrpc;
import dalle.v1.TokenizerGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's channels to the four stage services, from {@code dalle.gateway.<stage>-address}. Each channel
 * balances its calls round robin over every address its target resolves to: with {@code dns:///name:port} and a
 * headless Service, every replica of a stage gets calls (pick-first, gRPC's default, would send them all to one
 * pod however many KEDA starts); the stages' maximum connection age makes the channel re-resolve as replicas come
 * and go. Channels connect lazily: a stage that is down makes a call fail UNAVAILABLE, not the gateway's start.
 */
public final class StageClients implements AutoCloseable {

    /** Largest response accepted from a stage (a Decode of 64 paper-size PNGs is a few MiB). */
    static final int MAX_INBOUND_BYTES = 64 << 20;

    private final ManagedChannel tokenizer;
    private final ManagedChannel sampler;
    private final ManagedChannel decoder;
    private final ManagedChannel reranker;

    /**
     * How the channels are secured: plaintext, or TLS checking the stages' certificates against
     * {@code trustCertificates} (null = the JDK's trust store), presenting {@code certificate} + {@code key} when
     * both are given (mutual TLS), checking names against {@code authority} when given.
     */
    public record Tls(boolean enabled, Path trustCertificates, Path certificate, Path key, String authority) {

        /** Plaintext channels. */
        public static final Tls PLAINTEXT = new Tls(false, null, null, null, null);

        /** The credentials of a channel; fails naming the file and key that do not load ({@link ChannelTls}). */
        public ChannelCredentials credentials() {
            return new ChannelTls("dalle.gateway.tls", enabled, trustCertificates, certificate, key).credentials();
        }
    }

    public StageClients(String tokenizer, String sampler, String decoder, String reranker) {
        this(tokenizer, sampler, decoder, reranker, Tls.PLAINTEXT);
    }

    public StageClients(String tokenizer, String sampler, String decoder, String reranker, Tls tls) {
        this(tokenizer, sampler, decoder, reranker, tls, OpenTelemetry.noop());
    }

    /**
     * As above, every call a client span of {@code telemetry} whose trace goes to the stage in the call's
     * {@code traceparent} metadata (these channels are built here, so Quarkus' own gRPC client tracing does not
     * reach them); with tracing off, no span and no header.
     */
    public StageClients(String tokenizer, String sampler, String decoder, String reranker, Tls tls,
            OpenTelemetry telemetry) {
        ChannelCredentials credentials = tls.credentials();
        ClientInterceptor tracing = GrpcTelemetry.create(telemetry).newClientInterceptor();
        this.tokenizer = channel(tokenizer, credentials, tls.authority(), tracing);
        this.sampler = channel(sampler, credentials, tls.authority(), tracing);
        this.decoder = channel(decoder, credentials, tls.authority(), tracing);
        this.reranker = channel(reranker, credentials, tls.authority(), tracing);
    }

    /**
     * Every stage call is retried on UNAVAILABLE, up to 3 attempts with backoff, before any response arrived (gRPC's
     * own retry: a streamed Sample is not retried once a candidate came back). The calls are idempotent (same
     * request, same answer), and a replica that died or restarted a moment ago leaves a broken connection that the
     * next attempt replaces: the request does not fail for it ("UNAVAILABLE: io exception" in the e2e suite right
     * after a stage restart).
     */
    static final Map<String, Object> RETRY = Map.of("methodConfig", List.of(Map.of(
            "name", List.of(Map.of()),
            "retryPolicy", Map.of("maxAttempts", 3.0, "initialBackoff", "0.2s", "maxBackoff", "2s",
                    "backoffMultiplier", 2.0, "retryableStatusCodes", List.of("UNAVAILABLE")))));

    private static ManagedChannel channel(String target, ChannelCredentials credentials, String authority,
            ClientInterceptor tracing) {
        ManagedChannelBuilder<?> b = Grpc.newChannelBuilder(target, credentials)
                .defaultLoadBalancingPolicy("round_robin").defaultServiceConfig(RETRY).enableRetry()
                .maxInboundMessageSize(MAX_INBOUND_BYTES).intercept(tracing);
        if (authority != null) {
            b.overrideAuthority(authority);
        }
        return b.build();
    }

    public TokenizerGrpc.TokenizerBlockingStub tokenizer() {
        return TokenizerGrpc.newBlockingStub(tokenizer);
    }

    public SamplerGrpc.SamplerBlockingStub sampler() {
        return SamplerGrpc.newBlockingStub(sampler);
    }

    public DecoderGrpc.DecoderBlockingStub decoder() {
        return DecoderGrpc.newBlockingStub(decoder).withMaxInboundMessageSize(MAX_INBOUND_BYTES);
    }

    public RerankerGrpc.RerankerBlockingStub reranker() {
        return RerankerGrpc.newBlockingStub(reranker);
    }

    /** The four channels by stage name, in pipeline order. */
    public Map<String, ManagedChannel> channels() {
        Map<String, ManagedChannel> m = new LinkedHashMap<>();
        m.put("tokenizer", tokenizer);
        m.put("sampler", sampler);
        m.put("decoder", decoder);
        m.put("reranker", reranker);
        return m;
    }

    @Override
    public void close() {
        for (ManagedChannel c : List.of(tokenizer, sampler, decoder, reranker)) {
            c.shutdownNow();
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
