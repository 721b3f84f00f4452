package dalle.services.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dalle.services.common.stage.FieldException;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.Image;
import dalle.v1.Job;
import dalle.v1.JobState;
import dalle.v1.ListJobsRequest;
import dalle.v1.ListJobsResponse;
import dalle.v1.RankedImage;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * ListJobs over two replicas' stores (in memory here; the e2e GatewayReplicas test runs it over two real gateways):
 * every job of the caller's tenant exactly once across pages, newest first, no other tenant's, no image bytes.
 */
class JobsListTest {

    /** One replica's store: pipeline ids to jobs. */
    private static final class Store implements JobStates {
        final Map<String, Job> jobs = new TreeMap<>();
        final Set<String> others;

        Store(Set<String> others) {
            this.others = others;
        }

        @Override
        public void accepted(String jobId, long submittedAtMs) {
        }

        @Override
        public Optional<Job> job(String jobId) {
            return Optional.ofNullable(jobs.get(jobId));
        }

        @Override
        public List<Job> list(String prefix, Predicate<Job> after, int limit) {
            return jobs.values().stream().filter(j -> j.getJobId().startsWith(prefix) && after.test(j))
                    .sorted(JobListing.ORDER).limit(limit).toList();
        }

        @Override
        public Set<String> otherReplicas() {
            return others;
        }
    }

    private static Job job(String pipelineId, long submittedAtMs, boolean succeeded) {
        Job.Builder b = Job.newBuilder().setJobId(pipelineId).setSubmittedAtMs(submittedAtMs)
                .setState(succeeded ? JobState.JOB_STATE_SUCCEEDED : JobState.JOB_STATE_RUNNING);
        if (succeeded) {
            b.setResult(GenerateResponse.newBuilder().setRequestId(pipelineId).addImages(RankedImage.newBuilder()
                    .setRank(1).setCandidateIndex(3).setScore(0.5f).setImage(Image.newBuilder()
                            .setPng(ByteString.copyFrom(new byte[] {1, 2, 3})).setWidth(64).setHeight(64))));
        }
        return b.build();
    }

    /** Replica a (holds even jobs) and b (odd), each asking the other as a peer, as the gateway's gRPC does. */
    private final Store a = new Store(Set.of("b:9000"));
    private final Store b = new Store(Set.of("a:9000"));
    private final Jobs[] replicas = new Jobs[2];

    JobsListTest() {
        Jobs.Peers peers = new Jobs.Peers() {
            @Override
            public Optional<Job> job(String address, String jobId) {
                return Optional.empty();
            }

            @Override
            public ListJobsResponse list(String address, ListJobsRequest request) {
                Jobs peer = address.startsWith("a") ? replicas[0] : replicas[1];
                return Tenants.call(new Tenants.Caller(Tenants.current(), null, true), () -> peer.list(request));
            }
        };
        replicas[0] = new Jobs(null, a, Duration.ofMinutes(30), peers, e -> { });
        replicas[1] = new Jobs(null, b, Duration.ofMinutes(30), peers, e -> { });
        for (int i = 0; i < 25; i++) {
            Store s = i % 2 == 0 ? a : b;
            long at = 1_000_000L + (i / 3) * 1000;                             // ties of three: the id decides
            s.jobs.put("acme:job-" + (char) ('a' + i), job("acme:job-" + (char) ('a' + i), at, i % 4 == 0));
            s.jobs.put("globex:secret-" + i, job("globex:secret-" + i, at + 5, false));
        }
        // replica a accepted job-f (QUEUED, as StreamsJobStates keeps what it accepted), which b's store holds
        Job f = b.jobs.get("acme:job-f");
        a.jobs.put("acme:job-f", f.toBuilder().setState(JobState.JOB_STATE_QUEUED).clearProgress().build());
    }

    private static List<Job> listAll(Jobs gateway, String tenant, int pageSize, List<Integer> pages) {
        List<Job> all = new ArrayList<>();
        String token = "";
        do {
            ListJobsRequest r = ListJobsRequest.newBuilder().setPageSize(pageSize).setPageToken(token).build();
            ListJobsResponse page = Tenants.call(new Tenants.Caller(tenant, null, false), () -> gateway.list(r));
            pages.add(page.getJobsCount());
            all.addAll(page.getJobsList());
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return all;
    }

    @Test
    void everyJobOfTheTenantOnceAcrossPagesAndReplicasNewestFirstWithoutImageBytes() {
        for (Jobs gateway : replicas) {
            for (int size : new int[] {1, 7, 25, 100}) {
                List<Integer> pages = new ArrayList<>();
                List<Job> all = listAll(gateway, "acme", size, pages);
                assertEquals(25, all.size(), "page size " + size + ": " + pages);
                assertEquals(25, all.stream().map(Job::getJobId).distinct().count());
                assertTrue(all.stream().allMatch(j -> j.getJobId().startsWith("job-")), "the caller's own ids");
                List<Job> sorted = new ArrayList<>(all);
                sorted.sort(JobListing.ORDER);
                assertEquals(sorted, all, "newest first, ties by id descending");
                assertEquals("job-y", all.get(0).getJobId(), "the newest");
                assertTrue(pages.stream().allMatch(n -> n <= size), pages.toString());
                assertEquals((25 + size - 1) / size, pages.size(), "no empty last page: " + pages);
                assertEquals(JobState.JOB_STATE_RUNNING, all.stream().filter(j -> j.getJobId().equals("job-f"))
                        .findFirst().orElseThrow().getState(), "a job in two stores: the state further on");
                Job done = all.stream().filter(j -> j.getJobId().equals("job-a")).findFirst().orElseThrow();
                RankedImage image = done.getResult().getImages(0);
                assertEquals(3, image.getCandidateIndex());
                assertEquals(0.5f, image.getScore());
                assertTrue(image.getImage().getPng().isEmpty(), "listed without the PNG bytes");
                assertEquals("job-a", done.getResult().getRequestId());
            }
            List<Job> other = listAll(gateway, "globex", 10, new ArrayList<>());
            assertEquals(25, other.size());
            assertTrue(other.stream().allMatch(j -> j.getJobId().startsWith("secret-")));
        }
    }

    @Test
    void aBadPageSizeOrTokenNamesTheField() {
        for (int size : new int[] {-1, 101}) {
            FieldException e = assertThrows(FieldException.class, () -> Tenants.call(
                    new Tenants.Caller("acme", null, false),
                    () -> replicas[0].list(ListJobsRequest.newBuilder().setPageSize(size).build())));
            assertEquals("page_size", e.field());
        }
        // not base64; "hello"; "v1/1/" (no id); "v1/abc/x" (no time); "v2/1/x" (another version)
        for (String token : new String[] {"not base64 !", "aGVsbG8", "djEvMS8", "djEvYWJjL3g", "djIvMS94"}) {
            FieldException e = assertThrows(FieldException.class, () -> Tenants.call(
                    new Tenants.Caller("acme", null, false),
                    () -> replicas[0].list(ListJobsRequest.newBuilder().setPageToken(token).build())));
            assertEquals("page_token", e.field(), token);
        }
    }

    @Test
    void aJobsMessagesNameItByTheCallersOwnIdNotTheTenantScopedOne() {
        String reason = "candidate-images record of request 'acme:job-bad': candidate_index 9 is outside 0..3";
        a.jobs.put("acme:job-bad", Job.newBuilder().setJobId("acme:job-bad").setSubmittedAtMs(1)
                .setState(JobState.JOB_STATE_FAILED)
                .setError(Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_INVALID_ARGUMENT)
                        .setMessage("a candidate was dropped: " + reason))
                .setProgress(GenerationEvent.newBuilder().setRequestId("acme:job-bad").setStage(Stage.STAGE_FAN_IN)
                        .setStatus(StageStatus.STAGE_STATUS_FAILED).setMessage(reason)
                        .setError(Failure.newBuilder().setMessage(reason)))
                .build());
        Job job = Tenants.call(new Tenants.Caller("acme", null, false), () -> replicas[0].get("job-bad"))
                .orElseThrow();
        String own = "candidate-images record of request 'job-bad': candidate_index 9 is outside 0..3";
        assertEquals("job-bad", job.getJobId());
        assertEquals("a candidate was dropped: " + own, job.getError().getMessage());
        assertEquals("job-bad", job.getProgress().getRequestId());
        assertEquals(own, job.getProgress().getMessage());
        assertEquals(own, job.getProgress().getError().getMessage());
    }

    @Test
    void withoutAuthenticationEveryJobIsListed() {
        List<Job> all = listAll(replicas[1], null, 20, new ArrayList<>());
        assertEquals(50, all.size());
    }
}
