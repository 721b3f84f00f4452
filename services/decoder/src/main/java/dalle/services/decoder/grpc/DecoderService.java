package dalle.services.decoder.grpc;

import dalle.core.image.RgbImage;
import dalle.core.pipeline.Ranking;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.BundleVersions;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Grids;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.decoder.DecoderModel;
import dalle.services.decoder.DecoderStage;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeAndScoreRequest;
import dalle.v1.DecodeAndScoreResponse;
import dalle.v1.DecodeAndScoreTimings;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.DecoderGrpc;
import dalle.v1.ErrorCode;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import dalle.v1.RankedImage;
import dalle.v1.RerankerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * gRPC {@code dalle.v1.Decoder}: grids through the stage's bounded queue to core's dVAE decoder; DecodeAndScore
 * then scores the images through the reranker's Score, called from here.
 */
public class DecoderService extends DecoderGrpc.DecoderImplBase {

    private final DecoderStage stage;
    private final Supplier<RerankerGrpc.RerankerStub> reranker;

    /** @param reranker the stub DecodeAndScore calls (throws FAILED_PRECONDITION when there is no reranker) */
    public DecoderService(DecoderStage stage, Supplier<RerankerGrpc.RerankerStub> reranker) {
        this.stage = stage;
        this.reranker = reranker;
    }

    /** The request's grids, checked: 1..MAX_BATCH of them, each the model's size with codes in its codebook. */
    private static List<int[]> grids(List<CodeGrid> codes, DecoderModel model) {
        int n = codes.size();
        if (n < 1 || n > Requests.MAX_BATCH) {
            throw new FieldException("grids", n + " grids is outside 1.." + Requests.MAX_BATCH);
        }
        List<int[]> grids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            grids.add(Grids.codes("grids[" + i + "]", codes.get(i), model.info()));
        }
        return grids;
    }

    @Override
    public void decode(DecodeRequest request, StreamObserver<DecodeResponse> response) {
        long arrived = System.nanoTime();
        try {
            DecoderModel model = stage.model();
            List<int[]> grids = grids(request.getGridsList(), model);
            BundleVersions.check(request.getBundleVersion(), model.info().getBundleVersion());
            stage.queue().submit(Context.current().getDeadline(), () -> DecodeResponse.newBuilder()
                            .addAllImages(model.decode(grids)).setBundleVersion(model.info().getBundleVersion())
                            .setServerUs(micros(arrived, System.nanoTime())).build())
                    .whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void decodeAndScore(DecodeAndScoreRequest request, StreamObserver<DecodeAndScoreResponse> response) {
        long arrived = System.nanoTime();
        try {
            DecoderModel model = stage.model();
            List<int[]> grids = grids(request.getGridsList(), model);
            int n = grids.size();
            int topK = request.getTopK() == 0 ? n : request.getTopK();
            if (topK < 1 || topK > n) {
                throw new FieldException("top_k", request.getTopK() + " is outside 0.." + n + " (the grids sent)");
            }
            BundleVersions.check(request.getBundleVersion(), model.info().getBundleVersion());
            RerankerGrpc.RerankerStub scorer = reranker.get();
            Deadline deadline = Context.current().getDeadline();
            // the call's trace (its server span), made current again where the Score call is made: on the decoder's
            // thread, so that the client span and traceparent of RerankerChannel's interceptor belong to this call
            io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.current();
            // the pixels go to the reranker raw; PNGs are written only for the images the caller gets back
            stage.queue().submit(deadline, () -> model.decodePixels(grids)).thenCompose(images -> {
                ScoreRequest.Builder score = ScoreRequest.newBuilder().setRequestId(request.getRequestId())
                        .setCaption(request.getCaption()).addAllTextTokens(request.getTextTokensList())
                        .setBundleVersion(request.getBundleVersion());
                for (RgbImage img : images) {
                    score.addRawImages(Pngs.raw(img));
                }
                long decoded = System.nanoTime();
                CompletableFuture<ScoreResponse> scored = new CompletableFuture<>();
                StreamObserver<ScoreResponse> answer = new StreamObserver<>() {
                    @Override
                    public void onNext(ScoreResponse value) {
                        scored.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        scored.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        scored.completeExceptionally(new IllegalStateException("the reranker's Score ended without a "
                                + "response"));
                    }
                };
                try (io.opentelemetry.context.Scope ignored = trace.makeCurrent()) {
                    (deadline != null ? scorer.withDeadline(deadline) : scorer).score(score.build(), answer);
                }
                return scored.thenApply(s -> reply(model, images, s, topK, arrived, decoded));
            }).whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }

    /**
     * Every score, the PNGs of the best top_k (ranked as {@link Ranking} ranks; the bytes Decode gives), and the
     * timings.
     */
    private static DecodeAndScoreResponse reply(DecoderModel model, List<RgbImage> images, ScoreResponse s, int topK,
            long arrived, long decoded) {
        long scored = System.nanoTime();
        if (s.getScoresCount() != images.size()) {
            throw new StageException(ErrorCode.ERROR_CODE_INTERNAL, "the reranker returned " + s.getScoresCount()
                    + " scores for " + images.size() + " images");
        }
        float[] scores = new float[images.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = s.getScores(i);
        }
        DecodeAndScoreResponse.Builder b = DecodeAndScoreResponse.newBuilder().addAllScores(s.getScoresList())
                .setBundleVersion(model.info().getBundleVersion());
        int[] order = Ranking.order(scores);
        for (int k = 0; k < topK; k++) {
            int i = order[k];
            b.addImages(RankedImage.newBuilder().setRank(k + 1).setCandidateIndex(i).setScore(scores[i])
                    .setImage(Pngs.image(images.get(i))));
        }
        return b.setTimings(DecodeAndScoreTimings.newBuilder().setDecodeUs(micros(arrived, decoded))
                .setScoreCallUs(micros(decoded, scored)).setRerankServerUs(s.getServerUs())
                .setServerUs(micros(arrived, System.nanoTime()))).build();
    }

    private static long micros(long from, long to) {
        return (to - from) / 1_000L;
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
        Replies.call(response, () -> stage.model().info());
    }
}
