package dalle.services.reranker.grpc;

import dalle.services.common.grpc.ValidatedService;
import dalle.services.reranker.RerankerStage;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code dalle.v1.Reranker} as the server exposes it: {@link RerankerService}, its malformed requests INVALID_ARGUMENT. */
@GrpcService
@Singleton
public class RerankerEndpoint extends ValidatedService {

    public RerankerEndpoint(RerankerStage stage) {
        super(new RerankerService(stage));
    }
}
