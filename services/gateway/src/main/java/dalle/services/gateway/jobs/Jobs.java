package dalle.services.gateway.jobs;

import dalle.services.common.Topics;
import dalle.services.common.stage.StageException;
import dalle.services.gateway.GatewayCore;
import dalle.v1.ErrorCode;
import dalle.v1.GenerationRequest;
import dalle.v1.Job;
import dalle.v1.JobHandle;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * SubmitJob and GetJob: a job is a GenerationRequest on generation-requests (key = request id), acknowledged by
 * the broker before the handle is returned; its state comes from a {@link JobStates}.
 */
public final class Jobs {

    private final Producer<String, GenerationRequest> producer;
    private final JobStates view;
    private final Duration deadline;

    /** @param deadline how long a job may take: its {@code deadline_ms} is set that far after submission */
    public Jobs(Producer<String, GenerationRequest> producer, JobStates view, Duration deadline) {
        this.producer = producer;
        this.view = view;
        this.deadline = deadline;
    }

    /**
     * Queues a resolved request; a known id returns the existing job's handle without writing again.
     *
     * @throws StageException UNAVAILABLE when the broker does not acknowledge within 30 s (the producer's own
     *     timeouts make that seconds)
     */
    public JobHandle submit(GatewayCore.Resolved r) {
        JobHandle handle = JobHandle.newBuilder().setJobId(r.requestId()).build();
        if (view.job(r.requestId()).isPresent()) {
            return handle;
        }
        long now = System.currentTimeMillis();
        GenerationRequest.Builder g = GenerationRequest.newBuilder().setRequestId(r.requestId())
                .setCaption(r.caption()).setCandidates(r.candidates()).setTopK(r.topK()).setSeed(r.seed())
                .setSubmittedAtMs(now).setDeadlineMs(now + deadline.toMillis());
        if (r.params() != null) {
            g.setParams(r.params());
        }
        try {
            producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), r.requestId(), g.build()))
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "interrupted while queueing job " + r.requestId(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "could not queue job " + r.requestId() + " on Kafka: " + e.getMessage(), e);
        }
        view.accepted(r.requestId(), now);
        return handle;
    }

    /** The job's state; empty for an unknown id. */
    public Optional<Job> get(String jobId) {
        return view.job(jobId);
    }
}
