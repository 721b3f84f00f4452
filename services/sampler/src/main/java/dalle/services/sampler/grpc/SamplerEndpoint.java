package dalle.services.sampler.grpc;

import dalle.services.common.grpc.ValidatedService;
import dalle.services.sampler.SamplerStage;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code dalle.v1.Sampler} as the server exposes it: {@link SamplerService}, its malformed requests INVALID_ARGUMENT. */
@GrpcService
@Singleton
public class SamplerEndpoint extends ValidatedService {

    public SamplerEndpoint(SamplerStage stage) {
        super(new SamplerService(stage));
    }
}
