package dalle.services.decoder.grpc;

import dalle.services.common.grpc.HealthService;
import dalle.v1.DecoderGrpc;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code grpc.health.v1.Health}: NOT_SERVING until the dVAE is loaded and warm. */
@GrpcService
@Singleton
public class DecoderHealth extends HealthService {

    public DecoderHealth() {
        super(DecoderGrpc.SERVICE_NAME);
    }
}
