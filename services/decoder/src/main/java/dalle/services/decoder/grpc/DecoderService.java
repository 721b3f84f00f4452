package dalle.services.decoder.grpc;

import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.BundleVersions;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Grids;
import dalle.services.common.stage.Requests;
import dalle.services.decoder.DecoderModel;
import dalle.services.decoder.DecoderStage;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.DecoderGrpc;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/** gRPC {@code dalle.v1.Decoder}: grids through the stage's bounded queue to core's dVAE decoder. */
public class DecoderService extends DecoderGrpc.DecoderImplBase {

    private final DecoderStage stage;

    public DecoderService(DecoderStage stage) {
        this.stage = stage;
    }

    @Override
    public void decode(DecodeRequest request, StreamObserver<DecodeResponse> response) {
        try {
            DecoderModel model = stage.model();
            int n = request.getGridsCount();
            if (n < 1 || n > Requests.MAX_BATCH) {
                throw new FieldException("grids", n + " grids is outside 1.." + Requests.MAX_BATCH);
            }
            List<int[]> grids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                grids.add(Grids.codes("grids[" + i + "]", request.getGrids(i), model.info()));
            }
            BundleVersions.check(request.getBundleVersion(), model.info().getBundleVersion());
            stage.queue().submit(Context.current().getDeadline(), () -> DecodeResponse.newBuilder()
                            .addAllImages(model.decode(grids)).setBundleVersion(model.info().getBundleVersion()).build())
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
