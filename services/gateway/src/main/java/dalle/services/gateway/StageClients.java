package dalle.services.gateway;

import dalle.v1.DecoderGrpc;
import dalle.v1.RerankerGrpc;
import dalle.v1.SamplerGrpc;
import dalle.v1.TokenizerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
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

    public StageClients(String tokenizer, String sampler, String decoder, String reranker) {
        this.tokenizer = channel(tokenizer);
        this.sampler = channel(sampler);
        this.decoder = channel(decoder);
        this.reranker = channel(reranker);
    }

    private static ManagedChannel channel(String target) {
        return ManagedChannelBuilder.forTarget(target).defaultLoadBalancingPolicy("round_robin").usePlaintext()
                .maxInboundMessageSize(MAX_INBOUND_BYTES).build();
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
