package dalle.services.app.gateway;

import dalle.v1.Job;
import java.util.Optional;

/**
 * Where GetJob reads a job's state. Today {@link KafkaJobView} (an in-memory view fed from generation-events and
 * generation-results); the Kafka Streams status store of {@code services/fanin} can replace it behind this
 * interface.
 */
public interface JobStatusView {

    /** Notes a job the gateway has just written to generation-requests (QUEUED until its first event). */
    void accepted(String jobId, long submittedAtMs);

    /** The job's current state; empty for an unknown id. */
    Optional<Job> job(String jobId);
}
