package dalle.services.decoder.grpc;

import dalle.services.common.grpc.ClientTlsConfig;
import dalle.services.common.stage.StageException;
import dalle.services.decoder.config.DecoderConfig;
import dalle.v1.ErrorCode;
import dalle.v1.RerankerGrpc;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The decoder's channel to the reranker ({@code dalle.reranker.*}), for DecodeAndScore: balanced round robin over
 * every address the target resolves to, retried on UNAVAILABLE before any response (as the gateway's channels),
 * connecting lazily (a reranker that is down fails a call UNAVAILABLE, not the decoder's start). Every call is a
 * client span of the service's tracing whose trace reaches the reranker in the call's {@code traceparent} metadata
 * (the channel is built here, so Quarkus' own gRPC client tracing does not reach it); with tracing off, no span and
 * no header.
 */
@Singleton
public class RerankerChannel {

    /** Calls are retried on UNAVAILABLE, up to 3 attempts with backoff (Score is idempotent). */
    static final Map<String, Object> RETRY = Map.of("methodConfig", List.of(Map.of(
            "name", List.of(Map.of()),
            "retryPolicy", Map.of("maxAttempts", 3.0, "initialBackoff", "0.2s", "maxBackoff", "2s",
                    "backoffMultiplier", 2.0, "retryableStatusCodes", List.of("UNAVAILABLE")))));

    private final ManagedChannel channel; // null when no address is configured

    public RerankerChannel(DecoderConfig config, OpenTelemetry telemetry) {
        DecoderConfig.Reranker r = config.reranker();
        if (r.address().isEmpty()) {
            channel = null;
            return;
        }
        ClientTlsConfig t = r.tls();
        ManagedChannelBuilder<?> b = Grpc.newChannelBuilder(r.address().get(),
                        t.channelTls("dalle.reranker.tls").credentials())
                .defaultLoadBalancingPolicy("round_robin").defaultServiceConfig(RETRY).enableRetry()
                .intercept(GrpcTelemetry.create(telemetry).newClientInterceptor());
        t.authority().ifPresent(b::overrideAuthority);
        channel = b.build();
    }

    /**
     * An asynchronous stub on the channel.
     *
     * @throws StageException FAILED_PRECONDITION when {@code dalle.reranker.address} is not set
     */
    public RerankerGrpc.RerankerStub stub() {
        if (channel == null) {
            throw new StageException(ErrorCode.ERROR_CODE_FAILED_PRECONDITION, "this decoder has no reranker to "
                    + "score with: dalle.reranker.address is not set");
        }
        return RerankerGrpc.newStub(channel);
    }

    @PreDestroy
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
