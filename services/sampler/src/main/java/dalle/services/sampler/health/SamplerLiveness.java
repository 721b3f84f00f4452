package dalle.services.sampler.health;

import dalle.services.sampler.SamplerStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * {@code GET /q/health/live}: DOWN when the batcher thread or the Kafka stage's consumer thread has died (an unexpected error, not bad
 * records: those are dead-lettered), so that Kubernetes restarts the pod instead of keeping a stage that consumes
 * nothing.
 */
@Liveness
@Singleton
public class SamplerLiveness implements HealthCheck {

    private final SamplerStage stage;

    public SamplerLiveness(SamplerStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        String dead = stage.notAlive();
        var b = HealthCheckResponse.named("dalle-sampler").status(dead == null);
        if (dead != null) {
            b.withData("stopped", dead);
        }
        return b.build();
    }
}
