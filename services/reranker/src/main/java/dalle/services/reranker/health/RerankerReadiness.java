package dalle.services.reranker.health;

import dalle.services.common.grpc.GrpcListening;
import dalle.services.reranker.RerankerStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** {@code GET /q/health/ready}: UP once the reranker is loaded and warm; DOWN says why (e.g. no bundle at ...). */
@Readiness
@Singleton
public class RerankerReadiness implements HealthCheck {

    private final RerankerStage stage;

    public RerankerReadiness(RerankerStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        return GrpcListening.and(HealthCheckResponse.named("dalle-reranker"), stage.loader().ready())
                .withData("model", stage.loader().state()).build();
    }
}
