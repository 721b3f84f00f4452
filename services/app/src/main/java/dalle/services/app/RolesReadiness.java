package dalle.services.app;

import dalle.services.app.stage.Role;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code GET /q/health/ready}: UP only when every role of this process can serve: the model roles once the
 * bundle is loaded and a warm-up generation ran, the gateway once it has read the bundle's sizes. DOWN carries
 * the reason (e.g. "no model bundle at ...: set dalle.model").
 */
@Readiness
@Singleton
public class RolesReadiness implements HealthCheck {

    private final ModelHolder models;
    private final GatewayHolder gateway;

    @Inject
    public RolesReadiness(ModelHolder models, GatewayHolder gateway) {
        this.models = models;
        this.gateway = gateway;
    }

    @Override
    public HealthCheckResponse call() {
        boolean modelRoles = models.roles().stream().anyMatch(Role::needsModel);
        boolean up = (!modelRoles || models.ready()) && (!gateway.enabled() || gateway.ready());
        var b = HealthCheckResponse.named("dalle-roles").status(up).withData("roles", models.roles().toString());
        if (modelRoles) {
            b.withData("model", models.state());
        }
        if (gateway.enabled()) {
            b.withData("gateway", gateway.state());
        }
        return b.build();
    }
}
