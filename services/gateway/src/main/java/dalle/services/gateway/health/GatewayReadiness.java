package dalle.services.gateway.health;

import dalle.services.common.grpc.GrpcListening;
import dalle.services.gateway.GatewayRuntime;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code GET /q/health/ready}: UP while the four stages agree on one bundle and, with Kafka on, the fan-in and the
 * status view run; DOWN says what is missing (e.g. "waiting for the sampler: UNAVAILABLE").
 */
@Readiness
@Singleton
public class GatewayReadiness implements HealthCheck {

    private final GatewayRuntime runtime;

    public GatewayReadiness(GatewayRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        return GrpcListening.and(HealthCheckResponse.named("dalle-gateway"), runtime.ready())
                .withData("stages", runtime.state()).build();
    }
}
