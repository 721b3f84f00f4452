package dalle.services.gateway.grpc;

import dalle.services.common.grpc.HealthService;
import dalle.v1.GatewayGrpc;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/**
 * {@code grpc.health.v1.Health}: SERVING only while the four stages agree on one bundle and, with Kafka on, the
 * fan-in and the status view run.
 */
@GrpcService
@Singleton
public class GatewayHealth extends HealthService {

    public GatewayHealth() {
        super(GatewayGrpc.SERVICE_NAME);
    }
}
