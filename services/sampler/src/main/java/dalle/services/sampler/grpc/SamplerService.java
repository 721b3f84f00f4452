package dalle.services.sampler.grpc;

import dalle.core.pipeline.GenerationRequest;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.BundleVersions;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Grids;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.sampler.SamplerBatcher;
import dalle.services.sampler.SamplerStage;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.SamplerGrpc;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * gRPC {@code dalle.v1.Sampler}: the request's candidates join the shared {@link SamplerBatcher} (with other
 * calls' and Kafka records' candidates) and stream back as each finishes. A full queue is RESOURCE_EXHAUSTED; a
 * passed deadline or a cancelled call stops the request's candidates that have not started.
 */
public class SamplerService extends SamplerGrpc.SamplerImplBase {

    private final SamplerStage stage;

    public SamplerService(SamplerStage stage) {
        this.stage = stage;
    }

    /** The candidate specs of a request, checked against the model. */
    public static List<CandidateSpec> specs(SampleRequest request, ModelInfo info) {
        int[] text = Requests.textTokens("text_tokens", request.getTextTokensList(), info);
        int count = Requests.candidates("candidates", request.getCandidates());
        int first = request.getFirstCandidateIndex();
        if (first < 0 || (long) first + count > GenerationRequest.MAX_CANDIDATES) {   // long: 2^31 - 1 + 2 wraps
            throw new FieldException("first_candidate_index", first + " + candidates " + count + " is outside 0.."
                    + GenerationRequest.MAX_CANDIDATES);
        }
        SamplingParams params = Requests.params("params", request.hasParams() ? request.getParams() : null, info);
        List<CandidateSpec> specs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            specs.add(new CandidateSpec(text, request.getSeed(), first + i, params));
        }
        return specs;
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
        Replies.call(response, () -> stage.model().info());
    }

    @Override
    public void sample(SampleRequest request, StreamObserver<SampledCandidate> response) {
        try {
            ModelInfo info = stage.model().info();
            List<CandidateSpec> specs = specs(request, info);
            BundleVersions.check(request.getBundleVersion(), info.getBundleVersion());
            AtomicInteger left = new AtomicInteger(specs.size());
            SamplerBatcher.Ticket ticket = stage.batcher().submit(specs, Context.current().getDeadline(),
                    new SamplerBatcher.Listener() {
                        @Override
                        public void sampled(int candidateIndex, int[] codes) {
                            response.onNext(SampledCandidate.newBuilder().setCandidateIndex(candidateIndex)
                                    .setGrid(Grids.grid(codes, info)).setBundleVersion(info.getBundleVersion())
                                    .build());
                            if (left.decrementAndGet() == 0) {
                                response.onCompleted();
                            }
                        }

                        @Override
                        public void failed(StageException error) {
                            response.onError(GrpcErrors.toStatus(error));
                        }
                    });
            if (response instanceof ServerCallStreamObserver<SampledCandidate> call) {
                call.setOnCancelHandler(ticket::cancel);
            }
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
        }
    }
}
