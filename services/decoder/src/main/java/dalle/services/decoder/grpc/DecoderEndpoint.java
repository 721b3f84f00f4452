package dalle.services.decoder.grpc;

import dalle.services.common.grpc.ValidatedService;
import dalle.services.decoder.DecoderStage;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code dalle.v1.Decoder} as the server exposes it: {@link DecoderService}, its malformed requests INVALID_ARGUMENT. */
@GrpcService
@Singleton
public class DecoderEndpoint extends ValidatedService {

    public DecoderEndpoint(DecoderStage stage, RerankerChannel reranker) {
        super(new DecoderService(stage, reranker::stub));
    }
}
