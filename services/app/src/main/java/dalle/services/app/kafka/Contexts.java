package dalle.services.app.kafka;

import dalle.services.app.stage.Deadlines;
import dalle.services.app.stage.StageException;
import dalle.services.app.stage.StageModel;
import dalle.v1.GenerationContext;
import dalle.v1.GenerationEvent;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import io.grpc.Deadline;

/** Checks of the GenerationContext every per-request and per-candidate record carries. */
final class Contexts {

    private Contexts() {
    }

    /**
     * The context's deadline (null = none), after checking it has not passed and the bundle matches.
     *
     * @throws StageException DEADLINE_EXCEEDED or FAILED_PRECONDITION
     */
    static Deadline check(GenerationContext context, StageModel model, Stage stage) {
        model.checkVersion(context.getBundleVersion());
        if (!context.hasDeadlineMs()) {
            return null;
        }
        Deadline d = Deadlines.fromEpochMs(context.getDeadlineMs());
        if (d.isExpired()) {
            throw StageException.deadline("before the " + stage + " took the record");
        }
        return d;
    }

    static GenerationEvent event(String requestId, Stage stage, StageStatus status, int done, int total,
            String message) {
        return GenerationEvent.newBuilder().setRequestId(requestId).setStage(stage).setStatus(status)
                .setCandidatesDone(done).setCandidatesTotal(total).setMessage(message)
                .setTimestampMs(System.currentTimeMillis()).build();
    }
}
