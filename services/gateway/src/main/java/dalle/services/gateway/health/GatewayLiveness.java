package dalle.services.gateway.health;

import dalle.services.gateway.GatewayRuntime;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * {@code GET /q/health/live}: DOWN when the fan-in or the status view has not run for longer than
 * {@code dalle.gateway.streams-dead-after} although the gateway keeps starting them again: Kubernetes then restarts
 * the pod, the last resort.
 */
@Liveness
@Singleton
public class GatewayLiveness implements HealthCheck {

    private final GatewayRuntime runtime;

    public GatewayLiveness(GatewayRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        String dead = runtime.notAlive();
        var b = HealthCheckResponse.named("dalle-gateway-streams").status(dead == null);
        if (dead != null) {
            b.withData("stopped", dead);
        }
        return b.build();
    }
}
