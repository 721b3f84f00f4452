package dalle.services.gateway.jobs;

import dalle.services.common.stage.StageException;
import dalle.v1.ErrorCode;
import dalle.v1.Job;
import dalle.v1.JobState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * GetJob over the request-status view of {@code services/fanin} (a Kafka Streams store fed by generation-events
 * and generation-results), plus the jobs this gateway accepted that the store has not seen yet (QUEUED; at most
 * {@value #MAX_ACCEPTED}, the oldest forgotten first).
 *
 * <p>With several gateway replicas sharing the view's application id, each replica's store holds only the
 * requests of the partitions it owns: a replica answers for its own partitions, and an unknown id may be known
 * to another replica. A deployment that needs every replica to answer for every request gives each replica its
 * own application id ({@code dalle.gateway.status-view-application-id}).
 */
public final class StreamsJobStates implements JobStates {

    static final int MAX_ACCEPTED = 10_000;

    private final Supplier<dalle.services.gateway.fanin.StatusView> view;
    private final Map<String, Job> accepted = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
            return size() > MAX_ACCEPTED;
        }
    };

    private final String advertised;

    /** @param view the running status view, or null while it is not started yet */
    public StreamsJobStates(Supplier<dalle.services.gateway.fanin.StatusView> view) {
        this(view, null);
    }

    /**
     * @param view the running status view, or null while it is not started yet
     * @param advertised this gateway's address in the view's group ({@code application.server}); null = none
     */
    public StreamsJobStates(Supplier<dalle.services.gateway.fanin.StatusView> view, String advertised) {
        this.view = view;
        this.advertised = advertised;
    }

    @Override
    public Optional<String> remoteOwner(String jobId) {
        dalle.services.gateway.fanin.StatusView v = view.get();
        if (v == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE,
                    "the request-status view is still starting; retry shortly");
        }
        try {
            return v.remoteOwner(jobId, advertised);
        } catch (IllegalStateException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, e.getMessage(), e);
        }
    }

    @Override
    public synchronized Optional<Job> acceptedHere(String jobId) {
        return Optional.ofNullable(accepted.get(jobId));
    }

    @Override
    public synchronized void accepted(String jobId, long submittedAtMs) {
        accepted.putIfAbsent(jobId, Job.newBuilder().setJobId(jobId).setState(JobState.JOB_STATE_QUEUED)
                .setSubmittedAtMs(submittedAtMs).build());
    }

    @Override
    public List<Job> list(String prefix, Predicate<Job> after, int limit) {
        dalle.services.gateway.fanin.StatusView v = running();
        List<Job> jobs;
        List<Job> queued;
        try {
            // the accepted ones first: one the store takes in meanwhile is then in the store's list
            synchronized (this) {
                queued = accepted.values().stream().filter(j -> j.getJobId().startsWith(prefix) && after.test(j))
                        .toList();
            }
            jobs = new ArrayList<>(v.list(prefix, after, JobListing.ORDER, limit));
            Set<String> stored = new HashSet<>();
            jobs.forEach(j -> stored.add(j.getJobId()));
            for (Job j : queued) {
                if (!stored.contains(j.getJobId())) {
                    jobs.add(j);                                              // accepted, not in the store's list
                } else {
                    synchronized (this) {
                        accepted.remove(j.getJobId());                        // the store has it now
                    }
                }
            }
        } catch (IllegalStateException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, e.getMessage(), e);
        }
        jobs.sort(JobListing.ORDER);
        return jobs.size() > limit ? List.copyOf(jobs.subList(0, limit)) : jobs;
    }

    @Override
    public Set<String> otherReplicas() {
        return running().otherInstances(advertised);
    }

    private dalle.services.gateway.fanin.StatusView running() {
        dalle.services.gateway.fanin.StatusView v = view.get();
        if (v == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE,
                    "the request-status view is still starting; retry shortly");
        }
        return v;
    }

    @Override
    public Optional<Job> job(String jobId) {
        dalle.services.gateway.fanin.StatusView v = running();
        Optional<Job> stored;
        try {
            stored = v.get(jobId);
        } catch (IllegalStateException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, e.getMessage(), e);
        }
        synchronized (this) {
            if (stored.isPresent()) {
                accepted.remove(jobId);
                return stored;
            }
            return Optional.ofNullable(accepted.get(jobId));
        }
    }
}
