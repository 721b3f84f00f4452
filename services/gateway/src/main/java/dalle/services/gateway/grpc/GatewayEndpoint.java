package dalle.services.gateway.grpc;

import dalle.services.common.grpc.ValidatedService;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code dalle.v1.Gateway} as the server exposes it: {@link GatewayService}, its malformed requests INVALID_ARGUMENT. */
@GrpcService
@Singleton
public class GatewayEndpoint extends ValidatedService {

    public GatewayEndpoint(GatewayService.Access access) {
        super(new GatewayService(access));
    }
}
