package dalle.services.common.kafka;

import dalle.services.common.stage.BundleVersions;
import dalle.services.common.stage.Deadlines;
import dalle.services.common.stage.StageException;
import dalle.v1.GenerationContext;
import dalle.v1.GenerationEvent;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import io.grpc.Deadline;

/** Checks of the GenerationContext every per-request and per-candidate record carries, and the events stages emit. */
public final class StageEvents {

    private StageEvents() {
    }

    /**
     * The context's deadline (null = none), after checking it has not passed and the bundle matches.
     *
     * @param bundleVersion the version this stage serves
     * @throws StageException DEADLINE_EXCEEDED or FAILED_PRECONDITION
     */
    public static Deadline check(GenerationContext context, String bundleVersion, Stage stage) {
        BundleVersions.check(context.getBundleVersion(), bundleVersion);
        if (!context.hasDeadlineMs()) {
            return null;
        }
        Deadline d = Deadlines.fromEpochMs(context.getDeadlineMs());
        if (d.isExpired()) {
            throw StageException.deadline("before the " + stage + " took the record");
        }
        return d;
    }

    /** A status event of one request at one stage. */
    public static GenerationEvent event(String requestId, Stage stage, StageStatus status, int done, int total,
            String message) {
        return GenerationEvent.newBuilder().setRequestId(requestId).setStage(stage).setStatus(status)
                .setCandidatesDone(done).setCandidatesTotal(total).setMessage(message)
                .setTimestampMs(System.currentTimeMillis()).build();
    }
}
