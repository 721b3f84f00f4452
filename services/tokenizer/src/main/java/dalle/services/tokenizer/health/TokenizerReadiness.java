package dalle.services.tokenizer.health;

import dalle.services.common.grpc.GrpcListening;
import dalle.services.tokenizer.TokenizerStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** {@code GET /q/health/ready}: UP once the tokenizer is loaded and warm; DOWN says why (e.g. no bundle at ...). */
@Readiness
@Singleton
public class TokenizerReadiness implements HealthCheck {

    private final TokenizerStage stage;

    public TokenizerReadiness(TokenizerStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        return GrpcListening.and(HealthCheckResponse.named("dalle-tokenizer"), stage.loader().ready())
                .withData("model", stage.loader().state()).build();
    }
}
