package dalle.services.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GetJobRequest;
import dalle.v1.Job;
import dalle.v1.JobState;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole application as `dalle up` starts it (all five roles in one process) on a real broker: readiness after
 * warm-up, the HTTP API, gRPC through Quarkus's server, jobs through Kafka, metrics and the OpenAPI document.
 */
@QuarkusTest
@WithTestResource(KafkaAndBundle.class)
class AppTest {

    private static final String HTTP = "http://localhost:18481";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(HTTP + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(HTTP + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @BeforeAll
    static void awaitReady() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        HttpResponse<String> r = get("/q/health/ready");
        while (r.statusCode() != 200 && System.nanoTime() < end) {
            Thread.sleep(200);
            r = get("/q/health/ready");
        }
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void readinessIsUpAfterTheBundleIsLoadedAndWarmedUp() throws Exception {
        JsonNode health = JSON.readTree(get("/q/health/ready").body());
        assertEquals("UP", health.get("status").asText());
        JsonNode roles = null;
        for (JsonNode check : health.get("checks")) {
            if (check.get("name").asText().equals("dalle-roles")) {
                roles = check;
            }
        }
        String model = roles.get("data").get("model").asText();
        assertTrue(model.startsWith("ready: bundle test-") && model.contains("warmed up"), model);
    }

    @Test
    void httpGenerationsReturnNBase64Pngs() throws Exception {
        HttpResponse<String> r = post("/v1/images/generations",
                "{\"prompt\":\"a red circle\",\"n\":2,\"size\":\"32x32\",\"response_format\":\"b64_json\",\"seed\":5,"
                        + "\"candidates\":3}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.get("created").asLong() > 1_600_000_000L);
        assertEquals(2, body.get("data").size());
        byte[] png = Base64.getDecoder().decode(body.get("data").get(0).get("b64_json").asText());
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
    }

    @Test
    void httpRejectsAnotherSizeAndUrlResponsesNamingTheField() throws Exception {
        HttpResponse<String> size = post("/v1/images/generations", "{\"prompt\":\"a circle\",\"size\":\"1024x1024\"}");
        assertEquals(400, size.statusCode(), size.body());
        assertEquals("size", JSON.readTree(size.body()).get("error").get("param").asText());
        HttpResponse<String> url = post("/v1/images/generations", "{\"prompt\":\"a circle\",\"response_format\":\"url\"}");
        assertEquals(400, url.statusCode(), url.body());
        assertEquals("response_format", JSON.readTree(url.body()).get("error").get("param").asText());
        HttpResponse<String> prompt = post("/v1/images/generations", "{\"n\":1}");
        assertEquals(400, prompt.statusCode(), prompt.body());
        assertEquals("prompt", JSON.readTree(prompt.body()).get("error").get("param").asText());
        // Expect: 100-continue, as curl sends for large bodies: the server answers 413 from the headers
        // before the body is sent (without it, the server may close while the client is still writing
        // and the client sees a reset instead of the 413: a flaky test)
        HttpResponse<String> big = CLIENT.send(HttpRequest.newBuilder(URI.create(HTTP + "/v1/images/generations"))
                .header("Content-Type", "application/json").expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + "x".repeat(100_000) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, big.statusCode(), "the body size limit");
    }

    @Test
    void grpcGenerateThroughQuarkusServerReturnsKImages() {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", 19481).usePlaintext().build();
        try {
            GenerateResponse r = GatewayGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(GenerateRequest.newBuilder().setCaption("a blue square").setCandidates(3).setTopK(2)
                            .build());
            assertEquals(2, r.getImagesCount());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aJobIsQueuedOnKafkaAndSucceedsThroughTheGatewaysFanIn() throws Exception {
        HttpResponse<String> r = post("/v1/jobs", "{\"prompt\":\"a green triangle\",\"n\":1,\"candidates\":2,"
                + "\"request_id\":\"app-job-1\"}");
        assertEquals(202, r.statusCode(), r.body());
        assertEquals("app-job-1", JSON.readTree(r.body()).get("id").asText());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", 19481).usePlaintext().build();
        try {
            var stub = GatewayGrpc.newBlockingStub(channel);
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            Job job = stub.getJob(GetJobRequest.newBuilder().setJobId("app-job-1").build());
            // the gateway hosts the fan-in: the job ends SUCCEEDED with its top-1 image, read from the status view
            while (System.nanoTime() < end && job.getState() != JobState.JOB_STATE_SUCCEEDED
                    && job.getState() != JobState.JOB_STATE_FAILED) {
                Thread.sleep(200);
                job = stub.getJob(GetJobRequest.newBuilder().setJobId("app-job-1").build());
            }
            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState(), job.toString());
            assertEquals(1, job.getResult().getImagesCount());
        } finally {
            channel.shutdownNow();
        }
        assertEquals(404, get("/v1/jobs/no-such-job").statusCode());
        HttpResponse<String> done = get("/v1/jobs/app-job-1");
        assertEquals(200, done.statusCode());
        assertEquals("succeeded", JSON.readTree(done.body()).get("state").asText(), done.body());
    }

    @Test
    void metricsAndOpenApiAreServed() throws Exception {
        post("/v1/images/generations", "{\"prompt\":\"a red circle\",\"candidates\":2}");
        String metrics = get("/q/metrics").body();
        for (String m : new String[] {"dalle_stage_latency_seconds", "dalle_stage_queue_seconds",
                "dalle_sampler_batch_size", "dalle_sampler_image_tokens_total"}) {
            assertTrue(metrics.contains(m), m + " in /q/metrics");
        }
        String openapi = get("/q/openapi").body();
        assertTrue(openapi.contains("/v1/images/generations") && openapi.contains("/v1/jobs/{id}"), openapi);
    }
}
