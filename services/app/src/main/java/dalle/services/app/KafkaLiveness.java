package dalle.services.app;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * {@code GET /q/health/live}: DOWN when a Kafka stage's consumer thread has died (an unexpected error, not bad
 * records: those are dead-lettered), so that Kubernetes restarts the pod instead of leaving a stage that
 * consumes nothing.
 */
@Liveness
@Singleton
public class KafkaLiveness implements HealthCheck {

    private final ModelHolder models;

    @Inject
    public KafkaLiveness(ModelHolder models) {
        this.models = models;
    }

    @Override
    public HealthCheckResponse call() {
        var dead = models.deadKafkaStages();
        var b = HealthCheckResponse.named("dalle-kafka-stages").status(dead.isEmpty());
        if (!dead.isEmpty()) {
            b.withData("stopped", String.join("; ", dead));
        }
        return b.build();
    }
}
