package dalle.services.sampler.grpc;

import dalle.services.common.grpc.HealthService;
import dalle.v1.SamplerGrpc;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code grpc.health.v1.Health}: NOT_SERVING until the prior is loaded and warm. */
@GrpcService
@Singleton
public class SamplerHealth extends HealthService {

    public SamplerHealth() {
        super(SamplerGrpc.SERVICE_NAME);
    }
}
