package dalle.services.gateway.jobs;

import dalle.services.common.Topics;
import dalle.services.common.kafka.CloudEvents;
import dalle.services.common.kafka.KafkaTracing;
import dalle.services.common.stage.StageException;
import dalle.services.gateway.GatewayCore;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.ErrorCode;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationRequest;
import dalle.v1.Job;
import dalle.v1.JobHandle;
import dalle.v1.ListJobsRequest;
import dalle.v1.ListJobsResponse;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * SubmitJob and GetJob: a job is a GenerationRequest on generation-requests (key = request id), acknowledged by
 * the broker before the handle is returned; its state comes from a {@link JobStates}.
 */
public final class Jobs {

    /** Asks the gateway replica at {@code address} for the caller's job (its own id); empty when it has none. */
    public interface Peers {
        Optional<Job> job(String address, String jobId);

        /** The caller's jobs the replica at {@code address} holds, a page as ListJobs gives it. */
        default ListJobsResponse list(String address, ListJobsRequest request) {
            return ListJobsResponse.getDefaultInstance();
        }
    }

    private final Producer<String, GenerationRequest> producer;
    private final JobStates view;
    private final Duration deadline;
    private final Peers peers;
    private final Consumer<GenerationEvent> queued;
    private final KafkaTracing tracing;

    /** @param deadline how long a job may take: its {@code deadline_ms} is set that far after submission */
    public Jobs(Producer<String, GenerationRequest> producer, JobStates view, Duration deadline) {
        this(producer, view, deadline, (address, id) -> Optional.empty(), e -> { });
    }

    /**
     * @param deadline how long a job may take: its {@code deadline_ms} is set that far after submission
     * @param peers the other gateway replicas: a job another replica's status view holds is asked there
     * @param queued where a submitted job's QUEUED event goes (generation-events), so that whichever replica holds
     *     the job knows it before its first stage reports
     */
    public Jobs(Producer<String, GenerationRequest> producer, JobStates view, Duration deadline, Peers peers,
            Consumer<GenerationEvent> queued) {
        this(producer, view, deadline, peers, queued, KafkaTracing.OFF);
    }

    /**
     * As above, the request record a child of the caller's trace (the HTTP or gRPC server span current on the
     * submitting thread), so the job's whole path through the stages is one trace.
     */
    public Jobs(Producer<String, GenerationRequest> producer, JobStates view, Duration deadline, Peers peers,
            Consumer<GenerationEvent> queued, KafkaTracing tracing) {
        this.tracing = tracing;
        this.producer = producer;
        this.view = view;
        this.deadline = deadline;
        this.peers = peers;
        this.queued = queued;
    }

    /**
     * Queues a resolved request; a known id returns the existing job's handle without writing again.
     *
     * @throws StageException UNAVAILABLE when the broker does not acknowledge within 30 s (the producer's own
     *     timeouts make that seconds)
     */
    public JobHandle submit(GatewayCore.Resolved r) {
        JobHandle handle = JobHandle.newBuilder().setJobId(r.clientId()).build();
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
        GenerationRequest value = g.build();
        Headers headers = CloudEvents.add(new RecordHeaders(), value, CloudEvents.source(Stage.STAGE_GATEWAY));
        Span span = tracing.publish(Context.current(), Topics.GENERATION_REQUESTS.name(), r.requestId(), headers);
        Throwable failure = null;
        try {
            producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), null, r.requestId(), value,
                    headers)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            failure = e;
            Thread.currentThread().interrupt();
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "interrupted while queueing job " + r.clientId(), e);
        } catch (ExecutionException | TimeoutException e) {
            failure = e;
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "could not queue job " + r.clientId() + " on Kafka: " + e.getMessage(), e);
        } finally {
            KafkaTracing.end(span, failure);
        }
        view.accepted(r.requestId(), now);
        queued.accept(GenerationEvent.newBuilder().setRequestId(r.requestId()).setStage(Stage.STAGE_GATEWAY)
                .setStatus(StageStatus.STAGE_STATUS_QUEUED).setCandidatesTotal(r.candidates()).setTimestampMs(now)
                .build());
        return handle;
    }

    /**
     * The state of the caller's job {@code jobId} (its own id: the tenant's scope is added here and taken off the
     * answer); empty for an id the caller's tenant has no job under.
     */
    public Optional<Job> get(String jobId) {
        String scoped = Tenants.scope(jobId);
        if (!Tenants.fromPeer()) {
            Optional<String> owner = view.remoteOwner(scoped);
            if (owner.isPresent()) {
                // the replica that holds the job answers, for the same caller (its key goes along)
                Optional<Job> there = peers.job(owner.get(), jobId);
                return there.isPresent() ? there : view.acceptedHere(scoped).map(Jobs::unscoped);
            }
        }
        return view.job(scoped).map(Jobs::unscoped);
    }

    /**
     * A page of the caller's jobs (its tenant's: ids under its scope; every job with authentication off), newest
     * first, from this replica and, unless the call came from a peer, from every other replica.
     *
     * @throws dalle.services.common.stage.FieldException for a bad page size or token
     */
    public ListJobsResponse list(ListJobsRequest request) {
        int size = JobListing.pageSize(request);
        Predicate<Job> after = job -> true;
        if (!request.getPageToken().isEmpty()) {
            JobListing.Cursor c = JobListing.cursor(request.getPageToken());
            after = new JobListing.Cursor(c.submittedAtMs(), Tenants.scope(c.jobId()))::precedes;
        }
        String tenant = Tenants.current();
        List<Job> found = new ArrayList<>();
        view.list(tenant == null ? "" : tenant + ":", after, size + 1).forEach(j -> found.add(unscoped(j)));
        boolean more = false;
        if (!Tenants.fromPeer()) {
            ListJobsRequest forPeer = request.toBuilder().setPageSize(size).build();
            for (String peer : view.otherReplicas()) {
                ListJobsResponse there = peers.list(peer, forPeer);
                found.addAll(there.getJobsList());
                more |= !there.getNextPageToken().isEmpty();
            }
        }
        // a job this replica accepted (QUEUED) may also be in another replica's store, further on: keep that one
        Map<String, Job> byId = new LinkedHashMap<>();
        for (Job j : found) {
            byId.merge(j.getJobId(), j, (a, b) -> b.getStateValue() > a.getStateValue() ? b : a);
        }
        List<Job> jobs = new ArrayList<>(byId.values());
        jobs.sort(JobListing.ORDER);
        more |= jobs.size() > size;
        List<Job> page = jobs.size() > size ? jobs.subList(0, size) : jobs;
        ListJobsResponse.Builder b = ListJobsResponse.newBuilder();
        page.forEach(j -> b.addJobs(JobListing.withoutImages(j)));
        if (more && !page.isEmpty()) {
            b.setNextPageToken(JobListing.Cursor.of(page.get(page.size() - 1)).token());
        }
        return b.build();
    }

    private static Job unscoped(Job job) {
        String scoped = job.getJobId();
        String own = Tenants.unscope(scoped);
        Job.Builder b = job.toBuilder().setJobId(own);
        if (job.hasResult()) {
            b.getResultBuilder().setRequestId(Tenants.unscope(job.getResult().getRequestId()));
        }
        // the stages' messages name the request by its scoped id ("record of request 'acme:job-1'"); the caller
        // knows it by its own
        if (job.hasError()) {
            b.getErrorBuilder().setMessage(job.getError().getMessage().replace(scoped, own));
        }
        if (job.hasProgress()) {
            b.getProgressBuilder().setRequestId(Tenants.unscope(job.getProgress().getRequestId()))
                    .setMessage(job.getProgress().getMessage().replace(scoped, own));
            if (job.getProgress().hasError()) {
                b.getProgressBuilder().getErrorBuilder()
                        .setMessage(job.getProgress().getError().getMessage().replace(scoped, own));
            }
        }
        return b.build();
    }
}
