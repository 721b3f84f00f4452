package dalle.services.gateway.jobs;

import dalle.services.common.stage.StageException;
import dalle.v1.Job;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where GetJob reads a job's state: the swap point between the gateway and the store behind it. Today
 * {@link StreamsJobStates}, over the Kafka Streams request-status view of {@code services/fanin} (state in Kafka).
 */
public interface JobStates {

    /** Notes a job the gateway has just written to generation-requests (QUEUED until its first event). */
    void accepted(String jobId, long submittedAtMs);

    /**
     * The job's current state; empty for an unknown id.
     *
     * @throws dalle.services.common.stage.StageException UNAVAILABLE while the store cannot be queried (starting,
     *     rebalancing)
     */
    Optional<Job> job(String jobId);

    /**
     * The address of the gateway replica whose store holds the job, when that is not this one; empty otherwise.
     *
     * @throws dalle.services.common.stage.StageException UNAVAILABLE while that is not known (rebalancing)
     */
    default Optional<String> remoteOwner(String jobId) {
        return Optional.empty();
    }

    /** The job as this gateway accepted it (QUEUED), if it did and its store has not seen it yet. */
    default Optional<Job> acceptedHere(String jobId) {
        return Optional.empty();
    }

    /**
     * The first {@code limit} jobs in {@link JobListing#ORDER} that this replica holds (its store, and the jobs it
     * accepted that the store has not seen yet) whose pipeline id starts with {@code prefix} and that {@code after}
     * lets through.
     *
     * @throws dalle.services.common.stage.StageException UNAVAILABLE while the store cannot be queried
     */
    default List<Job> list(String prefix, Predicate<Job> after, int limit) {
        return List.of();
    }

    /** The addresses of the other gateway replicas whose stores hold jobs; empty with one replica. */
    default Set<String> otherReplicas() {
        return Set.of();
    }
}
