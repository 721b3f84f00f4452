package dalle.services.gateway.jobs;

import dalle.services.common.stage.FieldException;
import dalle.v1.Job;
import dalle.v1.ListJobsRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Comparator;
import java.util.function.Predicate;

/**
 * The rules of ListJobs: newest submission first, ties broken by job id (descending), pages of {@code page_size}
 * jobs (1..100, default 20), and the page token: the last listed job's submission time and pipeline id, opaque to
 * callers (base64url of {@code "v1/<submitted_at_ms>/<id>"}). A listed job carries no image bytes.
 */
public final class JobListing {

    public static final int DEFAULT_PAGE_SIZE = 20;
    public static final int MAX_PAGE_SIZE = 100;

    /** Newest submission first, then job id descending: a total order over a store's jobs. */
    public static final Comparator<Job> ORDER = Comparator.comparingLong(Job::getSubmittedAtMs).reversed()
            .thenComparing(Job::getJobId, Comparator.reverseOrder());

    /** Where a page starts: after the job with this submission time and (pipeline) id, in {@link #ORDER}. */
    public record Cursor(long submittedAtMs, String jobId) {

        /** Whether {@code job} comes after this cursor in {@link #ORDER}: earlier, or as early with a lower id. */
        public boolean precedes(Job job) {
            return job.getSubmittedAtMs() < submittedAtMs
                    || job.getSubmittedAtMs() == submittedAtMs && job.getJobId().compareTo(jobId) < 0;
        }

        public String token() {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    ("v1/" + submittedAtMs + "/" + jobId).getBytes(StandardCharsets.UTF_8));
        }

        public static Cursor of(Job last) {
            return new Cursor(last.getSubmittedAtMs(), last.getJobId());
        }
    }

    private JobListing() {
    }

    /** The request's page size, checked. */
    public static int pageSize(ListJobsRequest request) {
        int size = request.getPageSize();
        if (size < 0 || size > MAX_PAGE_SIZE) {
            throw new FieldException("page_size", "must be 1.." + MAX_PAGE_SIZE + " (0 = " + DEFAULT_PAGE_SIZE
                    + "), got " + size);
        }
        return size == 0 ? DEFAULT_PAGE_SIZE : size;
    }

    /** Jobs after the request's page token (every job for none). */
    public static Predicate<Job> after(ListJobsRequest request) {
        if (request.getPageToken().isEmpty()) {
            return job -> true;
        }
        Cursor c = cursor(request.getPageToken());
        return c::precedes;
    }

    /** The cursor a page token holds. */
    public static Cursor cursor(String token) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            String[] parts = s.split("/", 3);
            if (parts.length == 3 && parts[0].equals("v1") && !parts[2].isEmpty()) {
                return new Cursor(Long.parseLong(parts[1]), parts[2]);
            }
        } catch (IllegalArgumentException e) {
            // NumberFormatException included: the message below says what is wrong
        }
        throw new FieldException("page_token", "is not a token this API gave (pass next_page_token back unchanged)");
    }

    /** A job as listed: a succeeded job's images without their PNG bytes. */
    public static Job withoutImages(Job job) {
        if (!job.hasResult()) {
            return job;
        }
        Job.Builder b = job.toBuilder();
        b.getResultBuilder().getImagesBuilderList().forEach(i -> i.getImageBuilder().clearPng());
        return b.build();
    }
}
