package dalle.services.tokenizer.grpc;

import dalle.services.common.grpc.HealthService;
import dalle.v1.TokenizerGrpc;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code grpc.health.v1.Health}: NOT_SERVING until the tokenizer is loaded and warm. */
@GrpcService
@Singleton
public class TokenizerHealth extends HealthService {

    public TokenizerHealth() {
        super(TokenizerGrpc.SERVICE_NAME);
    }
}
