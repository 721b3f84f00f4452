package dalle.services.sampler.health;

import dalle.services.common.grpc.GrpcListening;
import dalle.services.sampler.SamplerStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** {@code GET /q/health/ready}: UP once the prior is loaded and warm; DOWN says why (e.g. no bundle at ...). */
@Readiness
@Singleton
public class SamplerReadiness implements HealthCheck {

    private final SamplerStage stage;

    public SamplerReadiness(SamplerStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        return GrpcListening.and(HealthCheckResponse.named("dalle-sampler"), stage.loader().ready())
                .withData("model", stage.loader().state()).build();
    }
}
