package dalle.services.gateway.grpc;

import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.grpc.Replies;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.gateway.AdmissionLimit;
import dalle.services.gateway.GatewayCore;
import dalle.services.gateway.jobs.Jobs;
import dalle.v1.ErrorCode;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateProgress;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GetJobRequest;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.Job;
import dalle.v1.JobHandle;
import dalle.v1.ListJobsRequest;
import dalle.v1.ListJobsResponse;
import dalle.v1.ModelInfo;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * gRPC {@code dalle.v1.Gateway}. Generate and GenerateStream run {@link GatewayCore} on the gateway's bounded
 * executor (full: RESOURCE_EXHAUSTED), with the caller's deadline; SubmitJob, GetJob and ListJobs go through {@link Jobs}.
 */
public class GatewayService extends GatewayGrpc.GatewayImplBase {

    /** What the gateway role needs; each accessor says (UNAVAILABLE) why it is not there. */
    public interface Access {
        /** @throws StageException UNAVAILABLE when the gateway role is off or not ready */
        GatewayCore core();

        /** @throws StageException UNAVAILABLE when Kafka is off in this process */
        Jobs jobs();

        /** Where generations run (bounded: full = RESOURCE_EXHAUSTED). */
        ExecutorService executor();

        /** Where job submissions and lookups run, off the server's event loop (bounded: full = RESOURCE_EXHAUSTED). */
        ExecutorService jobExecutor();

        /** How many generations may run at once (a latency-driven limit; beyond it RESOURCE_EXHAUSTED). */
        AdmissionLimit admission();
    }

    private final Access access;

    public GatewayService(Access access) {
        this.access = access;
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> response) {
        run(request, response, (deadline, done) -> {
            GenerateResponse result = access.core().generate(request, deadline, e -> { });
            done.run(); // the slot is free before the caller hears back, so its next call finds it free
            response.onNext(result);
            response.onCompleted();
        });
    }

    @Override
    public void generateStream(GenerateRequest request, StreamObserver<GenerateProgress> response) {
        run(request, response, (deadline, done) -> {
            GenerateResponse result = access.core().generate(request, deadline,
                    e -> response.onNext(GenerateProgress.newBuilder().setEvent(e).build()));
            done.run();
            response.onNext(GenerateProgress.newBuilder().setResult(result).build());
            response.onCompleted();
        });
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
        Replies.call(response, () -> access.core().model());
    }

    @Override
    public void submitJob(GenerateRequest request, StreamObserver<JobHandle> response) {
        offload(response, () -> access.jobs().submit(access.core().resolve(request)));
    }

    @Override
    public void getJob(GetJobRequest request, StreamObserver<Job> response) {
        // an empty or malformed id is a bad request, not an unknown job (the tenant form stays: without
        // authentication, jobs that Kafka clients queued as "tenant:id" are listed and looked up by that id)
        offload(response, () -> {
            String id = Requests.requestId("job_id", request.getJobId());
            return access.jobs().get(id).orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("job_id: no job '" + id + "'").asRuntimeException());
        });
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
        offload(response, () -> access.jobs().list(request));
    }

    /** Runs a call that may block (Kafka, the status store) on the jobs executor, never on the server's event loop. */
    private <T> void offload(StreamObserver<T> response, Supplier<T> call) {
        try {
            access.jobExecutor().execute(Context.current().wrap(() -> Replies.call(response, call)));
        } catch (RejectedExecutionException e) {
            response.onError(GrpcErrors.toStatus(new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                    "the gateway is at its limit of job calls; retry later")));
        }
    }

    private interface Work {
        /** Generates; calls {@code done} once the result is there, before answering. */
        void run(Deadline deadline, Runnable done);
    }

    private void run(GenerateRequest request, StreamObserver<?> response, Work work) {
        Context context = Context.current();
        Deadline deadline = context.getDeadline();
        AdmissionLimit.Permit permit = null;
        try {
            access.core();
            permit = access.admission().tryAcquire(AdmissionLimit.candidates(request)).orElseThrow(
                    RejectedExecutionException::new);
            AdmissionLimit.Permit admitted = permit;
            // context.wrap: the stage calls inherit the caller's deadline and cancellation
            access.executor().execute(context.wrap(() -> {
                boolean completed = false;
                try {
                    if (deadline != null && deadline.isExpired()) {
                        throw StageException.deadline("before the gateway started the request");
                    }
                    work.run(deadline, () -> admitted.release(true));
                    completed = true;
                } catch (RuntimeException e) {
                    try {
                        response.onError(GrpcErrors.toStatus(e));
                    } catch (RuntimeException alreadyClosed) {
                        // the caller cancelled; nobody is listening
                    }
                } finally {
                    admitted.release(completed);
                }
            }));
        } catch (RejectedExecutionException e) {
            if (permit != null) {
                permit.release(false);
            }
            response.onError(GrpcErrors.toStatus(new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                    "gateway is at its limit of concurrent generations; retry later")));
        } catch (RuntimeException e) {
            if (permit != null) {
                permit.release(false);
            }
            response.onError(GrpcErrors.toStatus(e));
        }
    }
}
