package dalle.services.decoder.health;

import dalle.services.common.grpc.GrpcListening;
import dalle.services.decoder.DecoderStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** {@code GET /q/health/ready}: UP once the dVAE is loaded and warm; DOWN says why (e.g. no bundle at ...). */
@Readiness
@Singleton
public class DecoderReadiness implements HealthCheck {

    private final DecoderStage stage;

    public DecoderReadiness(DecoderStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        return GrpcListening.and(HealthCheckResponse.named("dalle-decoder"), stage.loader().ready())
                .withData("model", stage.loader().state()).build();
    }
}
