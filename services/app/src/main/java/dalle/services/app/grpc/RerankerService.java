package dalle.services.app.grpc;

import dalle.services.common.stage.Pngs;
import dalle.services.common.grpc.Replies;
import dalle.services.common.grpc.GrpcErrors;
import dalle.core.image.RgbImage;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Requests;
import dalle.services.app.stage.Role;
import dalle.services.app.stage.StageAccess;
import dalle.services.app.stage.StageRuntime;
import dalle.services.app.stage.StageWork;
import dalle.v1.RerankerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import dalle.v1.Stage;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;

/**
 * gRPC {@code dalle.v1.Reranker}: images (resampled to the reranker's size when needed) scored against the
 * caption's padded tokens (sent, or tokenized here) by core's contrastive scorer.
 */
@GrpcService
@Singleton
public class RerankerService extends RerankerGrpc.RerankerImplBase {

    private final StageAccess stages;

    @Inject
    public RerankerService(StageAccess stages) {
        this.stages = stages;
    }

    @Override
    public void score(ScoreRequest request, StreamObserver<ScoreResponse> response) {
        try {
            StageRuntime rt = stages.require(Role.RERANKER);
            String caption = Requests.caption("caption", request.getCaption());
            int n = request.getImagesCount();
            if (n < 1 || n > Requests.MAX_BATCH) {
                throw new FieldException("images", n + " images is outside 1.." + Requests.MAX_BATCH);
            }
            int[] text = request.getTextTokensCount() == 0 ? null
                    : Requests.textTokens("text_tokens", request.getTextTokensList(), rt.model().info());
            int size = rt.model().bundle().clip().config().imageSize();
            List<RgbImage> images = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                images.add(Pngs.read("images[" + i + "]", request.getImages(i), size));
            }
            rt.model().checkVersion(request.getBundleVersion());
            rt.queue(Stage.STAGE_RERANKER)
                    .submit(Context.current().getDeadline(), () -> {
                        int[] t = text != null ? text : rt.model().pipeline().tokenize(caption);
                        ScoreResponse.Builder b = ScoreResponse.newBuilder().setBundleVersion(rt.model().version());
                        for (float s : StageWork.score(rt.model(), t, images)) {
                            b.addScores(s);
                        }
                        return b.build();
                    })
                    .whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }
}
