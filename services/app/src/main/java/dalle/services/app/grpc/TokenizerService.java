package dalle.services.app.grpc;

import dalle.services.common.grpc.Replies;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.stage.Requests;
import dalle.services.app.stage.Role;
import dalle.services.app.stage.StageAccess;
import dalle.services.app.stage.StageRuntime;
import dalle.services.app.stage.StageWork;
import dalle.v1.Stage;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizeResponse;
import dalle.v1.TokenizerGrpc;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/** gRPC {@code dalle.v1.Tokenizer}: the caption through the stage's bounded queue to core's BPE tokenizer. */
@GrpcService
@Singleton
public class TokenizerService extends TokenizerGrpc.TokenizerImplBase {

    private final StageAccess stages;

    @Inject
    public TokenizerService(StageAccess stages) {
        this.stages = stages;
    }

    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> response) {
        try {
            StageRuntime rt = stages.require(Role.TOKENIZER);
            String caption = Requests.caption("caption", request.getCaption());
            rt.queue(Stage.STAGE_TOKENIZER)
                    .submit(Context.current().getDeadline(), () -> StageWork.tokenize(rt.model(), caption))
                    .whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }
}
