package dalle.services.reranker.grpc;

import dalle.core.image.RgbImage;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.BundleVersions;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.services.reranker.RerankerModel;
import dalle.services.reranker.RerankerStage;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import dalle.v1.RerankerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * gRPC {@code dalle.v1.Reranker}: images, PNG or raw 8-bit RGB (resampled to the reranker's size when needed) scored against the
 * caption's padded tokens (sent, or tokenized here) by core's contrastive scorer.
 */
public class RerankerService extends RerankerGrpc.RerankerImplBase {

    private final RerankerStage stage;

    public RerankerService(RerankerStage stage) {
        this.stage = stage;
    }

    @Override
    public void score(ScoreRequest request, StreamObserver<ScoreResponse> response) {
        long arrived = System.nanoTime();
        try {
            RerankerModel model = stage.model();
            String caption = Requests.caption("caption", request.getCaption());
            boolean raw = request.getRawImagesCount() > 0;
            if (raw && request.getImagesCount() > 0) {
                throw new FieldException("raw_images", "set together with images; send one or the other");
            }
            String field = raw ? "raw_images" : "images";
            int n = raw ? request.getRawImagesCount() : request.getImagesCount();
            if (n < 1 || n > Requests.MAX_BATCH) {
                throw new FieldException(field, n + " images is outside 1.." + Requests.MAX_BATCH);
            }
            int[] text = request.getTextTokensCount() == 0 ? null
                    : Requests.textTokens("text_tokens", request.getTextTokensList(), model.info());
            List<RgbImage> images = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                images.add(raw ? Pngs.read("raw_images[" + i + "]", request.getRawImages(i), model.imageSize())
                        : Pngs.read("images[" + i + "]", request.getImages(i), model.imageSize()));
            }
            BundleVersions.check(request.getBundleVersion(), model.info().getBundleVersion());
            stage.queue().submit(Context.current().getDeadline(), () -> {
                int[] t = text != null ? text : model.tokenize(caption);
                ScoreResponse.Builder b = ScoreResponse.newBuilder().setBundleVersion(model.info().getBundleVersion());
                for (float s : model.score(t, images)) {
                    b.addScores(s);
                }
                return b.setServerUs((System.nanoTime() - arrived) / 1_000L).build();
            }).whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
        Replies.call(response, () -> stage.model().info());
    }
}
