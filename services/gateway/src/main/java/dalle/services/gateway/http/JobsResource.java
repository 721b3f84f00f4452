package dalle.services.gateway.http;

import dalle.services.gateway.GatewayCore;
import dalle.services.gateway.GatewayRuntime;
import dalle.services.gateway.auth.HttpAuth;
import dalle.services.gateway.auth.Tenants;
import dalle.services.gateway.jobs.JobListing;
import dalle.v1.Job;
import dalle.v1.JobHandle;
import dalle.v1.JobState;
import dalle.v1.ListJobsRequest;
import dalle.v1.ListJobsResponse;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Locale;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * {@code POST /v1/jobs} (the images-generation body; 202 with the job id), {@code GET /v1/jobs/{id}} (its state, and
 * its images once done) and {@code GET /v1/jobs?limit=&page_token=} (the caller's jobs, newest first): jobs run
 * through the Kafka pipeline, as gRPC SubmitJob/GetJob/ListJobs.
 */
@Path("/v1/jobs")
public class JobsResource {

    private final GatewayRuntime gateway;

    @Inject
    public JobsResource(GatewayRuntime gateway) {
        this.gateway = gateway;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Queue a generation job on the Kafka pipeline")
    public Response submit(HttpApi.GenerationBody body, @Context ContainerRequestContext context) {
        var core = gateway.core();
        JobHandle h = Tenants.call(HttpAuth.caller(context), () -> {
            GatewayCore.Resolved r = core.resolve(ImagesResource.request(body, core.model()));
            return gateway.jobCall(() -> gateway.jobs().submit(r));
        });
        return Response.status(202)
                .entity(new HttpApi.JobBody(h.getJobId(), "queued", null, null, null, null, null, null)).build();
    }

    @GET
    @Path("/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "A job's state and, once succeeded, its images")
    public Response get(@PathParam("id") String id, @Context ContainerRequestContext context) {
        Job job = Tenants.call(HttpAuth.caller(context), () -> gateway.jobCall(() -> gateway.jobs().get(id)))
                .orElse(null);
        if (job == null) {
            return HttpErrors.error(404, "no job '" + id + "'", "id", "not_found");
        }
        return Response.ok(body(job)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The caller's jobs, newest first, without image bytes; page with page_token")
    public Response list(@QueryParam("limit") String limit, @QueryParam("page_token") String pageToken,
            @Context ContainerRequestContext context) {
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder();
        if (limit != null) {
            // a String, parsed here: JAX-RS answers a query parameter that does not convert with 404
            int size;
            try {
                size = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                size = 0;
            }
            if (size < 1 || size > JobListing.MAX_PAGE_SIZE) {
                return HttpErrors.error(400, "limit must be an integer 1.." + JobListing.MAX_PAGE_SIZE + ", got '"
                        + limit + "'", "limit", "invalid_request_error");
            }
            request.setPageSize(size);
        }
        if (pageToken != null) {
            request.setPageToken(pageToken);
        }
        ListJobsResponse page = Tenants.call(HttpAuth.caller(context),
                () -> gateway.jobCall(() -> gateway.jobs().list(request.build())));
        List<HttpApi.JobBody> jobs = page.getJobsList().stream().map(JobsResource::body).toList();
        String next = page.getNextPageToken().isEmpty() ? null : page.getNextPageToken();
        return Response.ok(new HttpApi.JobList("list", jobs, next != null, next)).build();
    }

    static HttpApi.JobBody body(Job job) {
        String state = job.getState().name().substring("JOB_STATE_".length()).toLowerCase(Locale.ROOT);
        HttpApi.Error error = job.getState() == JobState.JOB_STATE_FAILED
                ? new HttpApi.Error(job.getError().getMessage(), job.getError().getCode().name(),
                        job.getError().getField().isEmpty() ? null : job.getError().getField(), null)
                : null;
        return new HttpApi.JobBody(job.getJobId(), state,
                job.hasProgress() ? job.getProgress().getStage().name() : null,
                job.hasProgress() ? job.getProgress().getCandidatesDone() : null,
                job.hasProgress() ? job.getProgress().getCandidatesTotal() : null,
                job.hasResult() ? ImagesResource.images(job.getResult().getImagesList()) : null, error,
                job.getSubmittedAtMs() > 0 ? job.getSubmittedAtMs() / 1000 : null);
    }
}
