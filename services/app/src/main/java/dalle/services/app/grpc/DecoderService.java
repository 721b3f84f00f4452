package dalle.services.app.grpc;

import dalle.services.common.stage.Grids;
import dalle.services.common.grpc.Replies;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.FieldException;
import dalle.services.app.stage.Role;
import dalle.services.app.stage.StageAccess;
import dalle.services.app.stage.StageRuntime;
import dalle.services.app.stage.StageWork;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.DecoderGrpc;
import dalle.v1.Stage;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;

/** gRPC {@code dalle.v1.Decoder}: grids through the stage's bounded queue to core's dVAE decoder. */
@GrpcService
@Singleton
public class DecoderService extends DecoderGrpc.DecoderImplBase {

    private final StageAccess stages;

    @Inject
    public DecoderService(StageAccess stages) {
        this.stages = stages;
    }

    @Override
    public void decode(DecodeRequest request, StreamObserver<DecodeResponse> response) {
        try {
            StageRuntime rt = stages.require(Role.DECODER);
            int n = request.getGridsCount();
            if (n < 1 || n > Requests.MAX_BATCH) {
                throw new FieldException("grids", n + " grids is outside 1.." + Requests.MAX_BATCH);
            }
            List<int[]> grids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                grids.add(Grids.codes("grids[" + i + "]", request.getGrids(i), rt.model().info()));
            }
            rt.model().checkVersion(request.getBundleVersion());
            rt.queue(Stage.STAGE_DECODER)
                    .submit(Context.current().getDeadline(), () -> DecodeResponse.newBuilder()
                            .addAllImages(StageWork.decode(rt.model(), grids))
                            .setBundleVersion(rt.model().version()).build())
                    .whenComplete((r, e) -> Replies.unary(response, r, e));
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }
}
