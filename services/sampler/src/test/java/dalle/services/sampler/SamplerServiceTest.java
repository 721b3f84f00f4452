package dalle.services.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import dalle.services.common.Topics;
import dalle.v1.GenerationContext;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ImageCodes;
import dalle.v1.ModelInfo;
import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.SamplerGrpc;
import dalle.v1.TokenizedRequest;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The sampler service from a bundle directory that holds only bundle.json and the prior, on a real broker: ready
 * after warm-up; gRPC and Kafka give the in-process pipeline's codes; deadlines, overload and bad input.
 */
@QuarkusTest
@WithTestResource(SamplerBundle.class)
class SamplerServiceTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static ManagedChannel channel;
    private static Pipeline whole;

    @BeforeAll
    static void awaitReady() throws Exception {
        channel = ManagedChannelBuilder.forAddress("localhost", 19472).usePlaintext().build();
        whole = new Pipeline(ModelBundle.load(TestBundleParts.whole()));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (manage("/q/health/ready").statusCode() != 200 && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        HttpResponse<String> ready = manage("/q/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
    }

    @AfterAll
    static void close() {
        channel.shutdownNow();
        whole.bundle().close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18472" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface (health, metrics: quarkus.management.test-port). */
    static HttpResponse<String> manage(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18482" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static SamplerGrpc.SamplerBlockingStub sampler() {
        return SamplerGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static List<Integer> tokens(int[] text) {
        List<Integer> out = new ArrayList<>();
        for (int t : text) {
            out.add(t);
        }
        return out;
    }

    @Test
    void readyFromABundleWithOnlyThePriorAndSamplesWhatTheInProcessPipelineSamples() throws Exception {
        var dir = TestBundleParts.only(dalle.core.bundle.BundlePart.PRIOR);
        assertFalse(Files.exists(dir.resolve("dvae")) || Files.exists(dir.resolve("tokenizer.json")));
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService(SamplerGrpc.SERVICE_NAME).build()).getStatus());
        ModelInfo info = sampler().getModelInfo(GetModelInfoRequest.getDefaultInstance());
        assertEquals(whole.bundle().version(), info.getBundleVersion());

        int[] text = whole.tokenize("a red circle");
        List<SampledCandidate> got = new ArrayList<>();
        sampler().sample(SampleRequest.newBuilder().addAllTextTokens(tokens(text)).setCandidates(3)
                .setFirstCandidateIndex(2).setSeed(7).build()).forEachRemaining(got::add);
        List<int[]> expected = whole.sample(text, 3, 2, 7L, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
        assertEquals(3, got.size());
        for (SampledCandidate c : got) {
            int i = c.getCandidateIndex() - 2;
            assertArrayEquals(expected.get(i), c.getGrid().getCodesList().stream().mapToInt(Integer::intValue)
                    .toArray(), "candidate " + c.getCandidateIndex());
            assertEquals(info.getBundleVersion(), c.getBundleVersion());
        }
        assertTrue(manage("/q/metrics").body().contains("dalle_sampler_candidates_total"), "sampled candidates counted");
    }

    @Test
    void aTokenizedRequestOnKafkaBecomesOneImageCodesRecordPerCandidate() {
        String id = "sampler-kafka-1";
        int[] text = whole.tokenize("a green triangle");
        GenerationContext ctx = GenerationContext.newBuilder().setCaption("a green triangle").setCandidates(3)
                .setTopK(1).setSeed(21).addAllTextTokens(tokens(text)).setBundleVersion(whole.bundle().version())
                .build();
        TestBroker.send(Topics.TOKENIZED_REQUESTS.name(), id,
                TokenizedRequest.newBuilder().setRequestId(id).setContext(ctx).build().toByteArray());
        var records = TestBroker.await(Topics.IMAGE_CODES.name(), 3,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals(id));
        List<int[]> expected = whole.sample(text, 3, 0, 21L, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
        for (var r : records) {
            ImageCodes c = Topics.IMAGE_CODES.parse(r.value()).value();
            assertArrayEquals(expected.get(c.getCandidateIndex()), c.getGrid().getCodesList().stream()
                    .mapToInt(Integer::intValue).toArray(), "candidate " + c.getCandidateIndex());
        }
    }

    private static void assertInvalid(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field + ":"),
                "'" + e.getStatus().getDescription() + "' names " + field);
    }

    @Test
    void badInputIsInvalidArgumentNamingTheField() {
        int textLength = whole.bundle().sizes().textLength();
        assertInvalid("text_tokens", () -> sampler().sample(SampleRequest.newBuilder().addTextTokens(1)
                .setCandidates(1).build()).hasNext());
        assertInvalid("candidates", () -> sampler().sample(SampleRequest.newBuilder()
                .addAllTextTokens(Collections.nCopies(textLength, 0)).setCandidates(0).build()).hasNext());
        StatusRuntimeException other = assertThrows(StatusRuntimeException.class, () -> sampler().sample(
                SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(textLength, 0)).setCandidates(1)
                        .setBundleVersion("another-bundle").build()).hasNext());
        assertEquals(Status.Code.FAILED_PRECONDITION, other.getStatus().getCode());
    }

    @Test
    void aOneMillisecondDeadlineIsExceededAndTheSamplerDoesNotCompute() throws Exception {
        int textLength = whole.bundle().sizes().textLength();
        double before = candidates();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> SamplerGrpc
                .newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                .sample(SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(textLength, 0))
                        .setCandidates(2).setSeed(5).build()).forEachRemaining(c -> { }));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        Thread.sleep(300); // longer than the batching delay: a batch with the request would have run by now
        assertEquals(before, candidates(), "no candidate of the late request was sampled");
    }

    @Test
    void aRequestThatCanNeverFitTheQueueIsResourceExhausted() {
        int textLength = whole.bundle().sizes().textLength();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sampler().sample(
                SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(textLength, 0)).setCandidates(33)
                        .build()).hasNext());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    }

    private static double candidates() throws Exception {
        for (String line : manage("/q/metrics").body().split("\n")) {
            if (line.startsWith("dalle_sampler_candidates_total ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1).strip());
            }
        }
        throw new AssertionError("no dalle_sampler_candidates_total in /q/metrics");
    }
}
