package dalle.services.reranker.grpc;

import dalle.services.common.grpc.HealthService;
import dalle.v1.RerankerGrpc;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code grpc.health.v1.Health}: NOT_SERVING until the reranker is loaded and warm. */
@GrpcService
@Singleton
public class RerankerHealth extends HealthService {

    public RerankerHealth() {
        super(RerankerGrpc.SERVICE_NAME);
    }
}
