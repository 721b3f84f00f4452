package dalle.services.tokenizer.grpc;

import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.Requests;
import dalle.services.tokenizer.TokenizerModel;
import dalle.services.tokenizer.TokenizerStage;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizeResponse;
import dalle.v1.TokenizerGrpc;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;

/** gRPC {@code dalle.v1.Tokenizer}: the caption through the stage's bounded queue to core's BPE tokenizer. */
public class TokenizerService extends TokenizerGrpc.TokenizerImplBase {

    private final TokenizerStage stage;

    public TokenizerService(TokenizerStage stage) {
        this.stage = stage;
    }

    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> response) {
        try {
            TokenizerModel model = stage.model();
            String caption = Requests.caption("caption", request.getCaption());
            stage.queue().submit(Context.current().getDeadline(), () -> model.tokenize(caption))
                    .whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
        Replies.call(response, () -> stage.model().info());
    }
}
