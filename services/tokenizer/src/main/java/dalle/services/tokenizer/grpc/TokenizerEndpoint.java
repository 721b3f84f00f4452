package dalle.services.tokenizer.grpc;

import dalle.services.common.grpc.ValidatedService;
import dalle.services.tokenizer.TokenizerStage;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Singleton;

/** {@code dalle.v1.Tokenizer} as the server exposes it: {@link TokenizerService}, its malformed requests INVALID_ARGUMENT. */
@GrpcService
@Singleton
public class TokenizerEndpoint extends ValidatedService {

    public TokenizerEndpoint(TokenizerStage stage) {
        super(new TokenizerService(stage));
    }
}
