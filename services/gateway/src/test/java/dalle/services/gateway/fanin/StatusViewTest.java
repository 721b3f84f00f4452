package dalle.services.gateway.fanin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.TestBroker;
import dalle.services.common.Topics;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationEvent;
import dalle.v1.Job;
import dalle.v1.JobState;
import dalle.v1.RankedImage;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status view with the fan-in, against a real broker: progress, then completion or failure. */
class StatusViewTest {

    private static void event(String id, Stage stage, StageStatus status, int done, int total) {
        TestBroker.send(Topics.GENERATION_EVENTS.name(), id, GenerationEvent.newBuilder().setRequestId(id)
                .setStage(stage).setStatus(status).setCandidatesDone(done).setCandidatesTotal(total)
                .setTimestampMs(System.currentTimeMillis()).build().toByteArray());
    }

    private static Job await(StatusView view, String id, Predicate<Job> until) throws InterruptedException {
        long deadline = System.nanoTime() + TestBroker.TIMEOUT.toNanos();
        Optional<Job> job = Optional.empty();
        while (System.nanoTime() < deadline) {
            job = view.get(id);
            if (job.isPresent() && until.test(job.get())) {
                return job.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " is " + job + " after " + TestBroker.TIMEOUT);
    }

    @Test
    void reportsQueuedThenProgressThenTheRankedResult(@TempDir Path state) throws Exception {
        Requests req = new Requests("status-ok", 3, 2);
        try (StatusView view = StatusView.start(TestStreams.settings("status-view-ok", state.resolve("view")));
                FanIn fanIn = FanIn.start(TestStreams.settings("status-fan-in", state.resolve("fan-in")))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            assertEquals(Optional.empty(), view.get(req.id()), "nothing seen yet");

            event(req.id(), Stage.STAGE_GATEWAY, StageStatus.STAGE_STATUS_QUEUED, 0, 0);
            Job queued = await(view, req.id(), j -> j.hasProgress());
            assertEquals(JobState.JOB_STATE_QUEUED, queued.getState());
            assertTrue(queued.getSubmittedAtMs() > 0);

            event(req.id(), Stage.STAGE_SAMPLER, StageStatus.STAGE_STATUS_RUNNING, 1, 3);
            Job running = await(view, req.id(), j -> j.getProgress().getStage() == Stage.STAGE_SAMPLER);
            assertEquals(JobState.JOB_STATE_RUNNING, running.getState());
            assertEquals(1, running.getProgress().getCandidatesDone());
            assertEquals(3, running.getProgress().getCandidatesTotal());

            TestBroker.sendAll(List.of(req.record(0, 0.2f), req.record(2, 0.9f), req.record(1, 0.4f)));
            Job done = await(view, req.id(), j -> j.getState() == JobState.JOB_STATE_SUCCEEDED);
            assertEquals(List.of(2, 1), done.getResult().getImagesList().stream()
                    .map(RankedImage::getCandidateIndex).toList());
            assertEquals("tiny-test", done.getResult().getModel().getBundleVersion());
            assertEquals(Requests.SUBMITTED, done.getSubmittedAtMs(), "the result's submission time wins");
            assertFalse(done.hasError());

            event(req.id(), Stage.STAGE_DECODER, StageStatus.STAGE_STATUS_RUNNING, 3, 3); // a straggler
            Job after = await(view, req.id(), j -> j.getProgress().getStage() == Stage.STAGE_DECODER);
            assertEquals(JobState.JOB_STATE_SUCCEEDED, after.getState(), "a finished job stays finished");
        }
    }

    @Test
    void aFailedStageFailsTheJobWithItsReason(@TempDir Path state) throws Exception {
        String id = "status-failed";
        Failure failure = Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_INVALID_ARGUMENT)
                .setStage(Stage.STAGE_TOKENIZER).setField("caption").setMessage("caption is blank").build();
        try (StatusView view = StatusView.start(TestStreams.settings("status-view-failed", state))) {
            TestBroker.send(Topics.GENERATION_EVENTS.name(), id, GenerationEvent.newBuilder().setRequestId(id)
                    .setStage(Stage.STAGE_TOKENIZER).setStatus(StageStatus.STAGE_STATUS_FAILED).setError(failure)
                    .setTimestampMs(1).build().toByteArray());
            Job job = await(view, id, j -> j.getState() == JobState.JOB_STATE_FAILED);
            assertEquals(failure, job.getError());
            assertFalse(job.hasResult());
        }
    }

    @Test
    void jobsFinishedOrSilentForLongerThanTheRetentionAreForgotten(@TempDir Path state) throws Exception {
        String finished = "status-retention-failed";
        String silent = "status-retention-silent";
        try (StatusView view = StatusView.start(TestStreams.settings("status-view-retention", state),
                Duration.ofSeconds(2))) {
            TestBroker.send(Topics.GENERATION_EVENTS.name(), finished, GenerationEvent.newBuilder()
                    .setRequestId(finished).setStage(Stage.STAGE_TOKENIZER).setStatus(StageStatus.STAGE_STATUS_FAILED)
                    .setTimestampMs(System.currentTimeMillis()).build().toByteArray());
            event(silent, Stage.STAGE_GATEWAY, StageStatus.STAGE_STATUS_QUEUED, 0, 0);
            Job failed = await(view, finished, j -> j.getState() == JobState.JOB_STATE_FAILED);
            assertTrue(failed.getFinishedAtMs() > 0, "a finished job says when it finished");
            await(view, silent, j -> j.hasProgress());
            long end = System.nanoTime() + TestBroker.TIMEOUT.toNanos();
            while ((view.get(finished).isPresent() || view.get(silent).isPresent()) && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            assertEquals(Optional.empty(), view.get(finished), "forgotten after the retention");
            assertEquals(Optional.empty(), view.get(silent), "no news for longer than the retention");
        }
    }
}
