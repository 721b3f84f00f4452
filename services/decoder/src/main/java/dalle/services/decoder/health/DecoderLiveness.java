package dalle.services.decoder.health;

import dalle.services.decoder.DecoderStage;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * {@code GET /q/health/live}: DOWN when the Kafka stage's consumer thread has died (an unexpected error, not bad
 * records: those are dead-lettered), so that Kubernetes restarts the pod instead of keeping a stage that consumes
 * nothing.
 */
@Liveness
@Singleton
public class DecoderLiveness implements HealthCheck {

    private final DecoderStage stage;

    public DecoderLiveness(DecoderStage stage) {
        this.stage = stage;
    }

    @Override
    public HealthCheckResponse call() {
        String dead = stage.kafkaFailure();
        var b = HealthCheckResponse.named("dalle-decoder-kafka").status(dead == null);
        if (dead != null) {
            b.withData("stopped", dead);
        }
        return b.build();
    }
}
