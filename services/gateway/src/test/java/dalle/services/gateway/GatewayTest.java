package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dalle.services.common.grpc.RawCalls;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateProgress;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.Hop;
import dalle.v1.RankedImage;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The gateway against stand-in stages ({@link FakeStages}, real gRPC servers): readiness only while the stages
 * agree on a bundle, the HTTP and gRPC APIs, request checks, deadlines, and calls spread over two replicas of a
 * stage. The real stages, jobs and the fan-in across processes are tested in {@code tests/}.
 */
@QuarkusTest
@WithTestResource(GatewayFakes.class)
class GatewayTest {

    private static final String HTTP_BASE = "http://localhost:18470";
    /** The management interface: health and metrics (quarkus.management.test-port). */
    private static final String MANAGEMENT_BASE = "http://localhost:18480";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ManagedChannel raw;
    /** The gateway's gRPC channel with tenant acme's API key on every call. */
    private static Channel channel;

    @BeforeAll
    static void awaitReady() throws Exception {
        raw = ManagedChannelBuilder.forAddress("localhost", 19470).usePlaintext().build();
        channel = withKey(raw, GatewayFakes.ACME_KEY);
        awaitReadiness(200);
    }

    @AfterAll
    static void close() {
        raw.shutdownNow();
    }

    static void awaitReadiness(int status) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (manage("/q/health/ready").statusCode() != status && System.nanoTime() < end) {
            Thread.sleep(50);
        }
        HttpResponse<String> ready = manage("/q/health/ready");
        assertEquals(status, ready.statusCode(), ready.body());
    }

    static Channel withKey(Channel channel, String key) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(HTTP_BASE + path))
                .header("Authorization", "Bearer " + GatewayFakes.ACME_KEY).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface, without a key. */
    static HttpResponse<String> manage(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(MANAGEMENT_BASE + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return post(path, body, "Bearer " + GatewayFakes.ACME_KEY);
    }

    /** A POST with this Authorization header (none when null). */
    static HttpResponse<String> post(String path, String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(HTTP_BASE + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void httpWithoutAValidKeyIs401WithOpenAisErrorBodyWhileHealthStaysOpen() throws Exception {
        String body = "{\"prompt\":\"a red circle\",\"candidates\":2}";
        HttpResponse<String> none = post("/v1/images/generations", body, null);
        assertEquals(401, none.statusCode(), none.body());
        assertEquals("missing_api_key", JSON.readTree(none.body()).path("error").path("code").asText(), none.body());
        assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        String wrongKey = dalle.services.common.auth.ApiKeys.newKey();
        HttpResponse<String> wrong = post("/v1/images/generations", body, "Bearer " + wrongKey);
        assertEquals(401, wrong.statusCode(), wrong.body());
        JsonNode error = JSON.readTree(wrong.body()).path("error");
        assertEquals("invalid_api_key", error.path("code").asText(), wrong.body());
        assertTrue(!wrong.body().contains(wrongKey), "the refusal must not echo the key: " + wrong.body());
        assertEquals(401, post("/v1/images/generations", body, "Basic " + GatewayFakes.ACME_KEY).statusCode());
        HttpResponse<String> job = HTTP.send(HttpRequest.newBuilder(URI.create(HTTP_BASE + "/v1/jobs/job-1")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, job.statusCode(), "a job is not readable without a key: " + job.body());
        assertEquals(200, manage("/q/health/ready").statusCode(), "health checks need no key");
        assertTrue(manage("/q/metrics").body().contains("jvm_memory_used_bytes"), "nor does the metrics scrape");
        HttpResponse<String> publicHealth = HTTP.send(HttpRequest.newBuilder(URI.create(HTTP_BASE
                + "/q/health/ready")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, publicHealth.statusCode(), "health and metrics are on the management port only");
        HttpResponse<String> openapi = HTTP.send(HttpRequest.newBuilder(URI.create(HTTP_BASE + "/q/openapi")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, openapi.statusCode(), "the OpenAPI document stays on the public port, open");
        assertEquals(200, post("/v1/images/generations", body).statusCode());
    }

    @Test
    void grpcWithoutAValidKeyIsUnauthenticatedWhileHealthStaysOpen() {
        GenerateRequest req = GenerateRequest.newBuilder().setCaption("a red circle").setCandidates(2).build();
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> GatewayGrpc.newBlockingStub(raw).generate(req));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode(), none.getStatus().toString());
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class, () -> GatewayGrpc
                .newBlockingStub(withKey(raw, dalle.services.common.auth.ApiKeys.newKey())).getModelInfo(
                        GetModelInfoRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode(), wrong.getStatus().toString());
        assertEquals(Status.Code.UNAUTHENTICATED, RawCalls.call(raw, "dalle.v1.Gateway/Generate", new byte[] {1, 2})
                .getCode(), "an unauthenticated call is refused before its bytes are read");
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(raw)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus());
    }

    @Test
    void requestIdsAreScopedPerTenantAndCallersSeeOnlyTheirOwn() throws Exception {
        GenerateRequest req = GenerateRequest.newBuilder().setCaption("a red circle").setCandidates(2).setTopK(1)
                .setRequestId("same-id").build();
        GenerateResponse acme = gateway().generate(req);
        assertEquals("same-id", acme.getRequestId());
        assertEquals("acme:same-id", GatewayFakes.first.lastTokenizeId, "the stages see the tenant's scope");
        GenerateResponse globex = GatewayGrpc.newBlockingStub(withKey(raw, GatewayFakes.GLOBEX_KEY))
                .withDeadlineAfter(30, TimeUnit.SECONDS).generate(req);
        assertEquals("same-id", globex.getRequestId());
        assertEquals("globex:same-id", GatewayFakes.first.lastTokenizeId);
        assertEquals(acme.getSeed(), globex.getSeed(), "the seed comes from the caller's id, not the tenant");
        HttpResponse<String> http = post("/v1/images/generations",
                "{\"prompt\":\"a red circle\",\"candidates\":2,\"request_id\":\"http-id\"}");
        assertEquals(200, http.statusCode(), http.body());
        assertEquals("http-id", JSON.readTree(http.body()).path("request_id").asText());
        assertEquals("acme:http-id", GatewayFakes.first.lastTokenizeId);
        assertInvalid("request_id", () -> gateway().generate(req.toBuilder().setRequestId("globex:same-id").build()));
    }

    @Test
    void aKeyAddedToTheKeysFileWorksWithoutARestart() throws Exception {
        String key = dalle.services.common.auth.ApiKeys.newKey();
        GatewayGrpc.GatewayBlockingStub initech = GatewayGrpc.newBlockingStub(withKey(raw, key))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        StatusRuntimeException before = assertThrows(StatusRuntimeException.class,
                () -> initech.getModelInfo(GetModelInfoRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, before.getStatus().getCode());
        java.nio.file.Path file = GatewayFakes.keys;
        String original = java.nio.file.Files.readString(file);
        try {
            java.nio.file.Files.writeString(file, original + dalle.services.common.auth.ApiKeys.line(key, "initech",
                    "rotated in") + "\n");
            // a file system with one-second modification times: make sure the change is visible
            java.nio.file.Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() + 2000));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            StatusRuntimeException last = null;
            while (System.nanoTime() < end) {
                try {
                    assertEquals(FakeStages.INFO, initech.getModelInfo(GetModelInfoRequest.getDefaultInstance()));
                    last = null;
                    break;
                } catch (StatusRuntimeException e) {
                    last = e;
                    Thread.sleep(100);
                }
            }
            assertEquals(null, last, "the new key was refused for 10 s after it was added");
        } finally {
            java.nio.file.Files.writeString(file, original);
            java.nio.file.Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() + 4000));
        }
    }

    private static GatewayGrpc.GatewayBlockingStub gateway() {
        return GatewayGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Test
    void readyOnceTheStagesAgreeAndModelInfoIsTheirs() {
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus());
        assertEquals(FakeStages.INFO, gateway().getModelInfo(GetModelInfoRequest.getDefaultInstance()));
    }

    @Test
    void generateReturnsTheTopKBestFirstWithTheStagesBundle() {
        GenerateResponse r = gateway().generate(GenerateRequest.newBuilder().setCaption("a red circle")
                .setCandidates(5).setTopK(3).setSeed(11).build());
        assertEquals(3, r.getImagesCount());
        for (int k = 0; k < 3; k++) {
            assertEquals(k + 1, r.getImages(k).getRank());
            assertEquals(4 - k, r.getImages(k).getCandidateIndex(), "the fakes score candidate i as i*20");
            assertEquals((4 - k) * 20f, r.getImages(k).getScore(), 0f);
        }
        assertEquals(FakeStages.VERSION, r.getModel().getBundleVersion());
        assertEquals(11, r.getSeed());
    }

    @Test
    void theThinPathScoresThroughTheDecoderAndGivesTheRelaysResultWithEachHopTimed() {
        FakeStages f = GatewayFakes.first;
        GenerateRequest req = GenerateRequest.newBuilder().setCaption("a red circle").setCandidates(70).setTopK(3)
                .setSeed(11).build();
        int[] before = {f.decodeCalls.get(), f.decodeAndScoreCalls.get(), f.scoreCalls.get()};
        GenerateResponse thin = GatewayGrpc.newBlockingStub(ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(header("dalle-sync-path", "thin"))))
                .withDeadlineAfter(30, TimeUnit.SECONDS).generate(req);
        // 70 candidates: two DecodeAndScore calls (64 + 6), no image through the gateway to the reranker
        assertEquals(before[0], f.decodeCalls.get(), "no Decode call on the thin path");
        assertEquals(before[1] + 2, f.decodeAndScoreCalls.get());
        assertEquals(before[2], f.scoreCalls.get(), "no Score call from the gateway on the thin path");
        assertEquals(List.of("gateway -> tokenizer Tokenize", "gateway -> sampler Sample (stream)",
                "gateway -> decoder DecodeAndScore", "decoder -> reranker Score", "gateway -> decoder DecodeAndScore",
                "decoder -> reranker Score"), thin.getTimings().getHopsList().stream().map(Hop::getName).toList());
        assertEquals(3, thin.getTimings().getHops(2).getServerUs(), "the decoder's own time, as it reported it");

        GenerateResponse relay = GatewayGrpc.newBlockingStub(ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(header("dalle-sync-path", "relay"))))
                .withDeadlineAfter(30, TimeUnit.SECONDS).generate(req);
        assertEquals(before[0] + 2, f.decodeCalls.get(), "the header chose the relay path: Decode");
        assertEquals(before[1] + 2, f.decodeAndScoreCalls.get());
        assertEquals(before[2] + 2, f.scoreCalls.get(), "... then Score from the gateway");
        assertEquals(List.of("gateway -> tokenizer Tokenize", "gateway -> sampler Sample (stream)",
                "gateway -> decoder Decode", "gateway -> decoder Decode", "gateway -> reranker Score",
                "gateway -> reranker Score"), relay.getTimings().getHopsList().stream().map(Hop::getName).toList());
        assertEquals(relay.getImagesList(), thin.getImagesList(), "the same ranked images and scores on both paths");
        // the fakes' grey level i*20 wraps at 256: 51*20 mod 256 = 252 is the best, then 38 (248), 25 (244)
        assertEquals(List.of(51, 38, 25), thin.getImagesList().stream().map(RankedImage::getCandidateIndex).toList());

        StatusRuntimeException bad = assertThrows(StatusRuntimeException.class, () -> GatewayGrpc.newBlockingStub(
                ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(
                        header("dalle-sync-path", "fast")))).withDeadlineAfter(30, TimeUnit.SECONDS).generate(req));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        assertTrue(bad.getStatus().getDescription().contains("dalle-sync-path"), bad.getStatus().getDescription());
    }

    private static Metadata header(String name, String value) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
        return h;
    }

    @Test
    void generateStreamSendsProgressBeforeTheResult() {
        List<GenerateProgress> all = new ArrayList<>();
        gateway().generateStream(GenerateRequest.newBuilder().setCaption("a red circle").setCandidates(2)
                .setSeed(3).build()).forEachRemaining(all::add);
        assertTrue(all.size() >= 5, "events of four stages then the result: " + all.size());
        for (int i = 0; i < all.size() - 1; i++) {
            assertTrue(all.get(i).hasEvent());
        }
        assertEquals(2, all.get(all.size() - 1).getResult().getImagesCount());
    }

    private static void assertInvalid(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field + ":"),
                "'" + e.getStatus().getDescription() + "' names " + field);
    }

    @Test
    void badInputIsInvalidArgumentNamingTheFieldAndAOneMillisecondDeadlineIsExceeded() {
        assertInvalid("caption", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("  ").build()));
        assertInvalid("top_k", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("a circle")
                .setCandidates(2).setTopK(3).build()));
        assertInvalid("top_k", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("a circle")
                .setCandidates(16).setTopK(9).setSize(1024).build())); // 9 x 3 MiB: more than one response carries
        assertInvalid("params.top_p", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("a circle")
                .setParams(dalle.v1.SamplingParams.newBuilder().setTopP(1.5f)).build()));
        // an empty or malformed job id is a bad request, not an unknown job
        assertInvalid("job_id", () -> gateway().getJob(dalle.v1.GetJobRequest.getDefaultInstance()));
        assertInvalid("job_id", () -> gateway().getJob(dalle.v1.GetJobRequest.newBuilder().setJobId("bad id!")
                .build()));
        StatusRuntimeException late = assertThrows(StatusRuntimeException.class, () -> GatewayGrpc
                .newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                .generate(GenerateRequest.newBuilder().setCaption("a red circle").build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
    }

    @Test
    void requestBytesThatDoNotParseAreInvalidArgument() {
        Random rng = new Random(3);
        Map<Status.Code, Integer> codes = new TreeMap<>();
        String example = "";
        for (int i = 0; i < 50; i++) {
            byte[] junk = new byte[1 + rng.nextInt(64)];
            rng.nextBytes(junk);
            Status s = RawCalls.call(channel, "dalle.v1.Gateway/Generate", junk);
            codes.merge(s.getCode(), 1, Integer::sum);
            if (s.getCode() != Status.Code.INVALID_ARGUMENT) {
                example = s.toString();
            }
        }
        // junk that happens to parse reaches the caption check instead, also INVALID_ARGUMENT
        assertEquals(Map.of(Status.Code.INVALID_ARGUMENT, 50), codes, example);
    }

    @Test
    void httpGenerationsReturnNBase64PngsBestFirst() throws Exception {
        HttpResponse<String> r = post("/v1/images/generations",
                "{\"prompt\":\"a red circle\",\"n\":2,\"size\":\"8x8\",\"response_format\":\"b64_json\",\"seed\":5,"
                        + "\"candidates\":3}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.get("created").asLong() > 1_600_000_000L);
        assertEquals(2, body.get("data").size());
        assertEquals(2, body.get("data").get(0).get("candidate_index").asInt());
        byte[] png = Base64.getDecoder().decode(body.get("data").get(0).get("b64_json").asText());
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertEquals(FakeStages.VERSION, body.get("bundle_version").asText());
    }

    @Test
    void httpRejectsAnotherSizeAnotherResponseFormatAndAMissingPromptNamingTheField() throws Exception {
        HttpResponse<String> size = post("/v1/images/generations", "{\"prompt\":\"a circle\",\"size\":\"300x300\"}");
        assertEquals(400, size.statusCode(), size.body());
        assertEquals("size", JSON.readTree(size.body()).get("error").get("param").asText());
        HttpResponse<String> url = post("/v1/images/generations", "{\"prompt\":\"a circle\",\"response_format\":\"png\"}");
        assertEquals(400, url.statusCode(), url.body());
        assertEquals("response_format", JSON.readTree(url.body()).get("error").get("param").asText());
        HttpResponse<String> prompt = post("/v1/images/generations", "{\"n\":1}");
        assertEquals(400, prompt.statusCode(), prompt.body());
        assertEquals("prompt", JSON.readTree(prompt.body()).get("error").get("param").asText());
        // the body limit (413, also with Expect: 100-continue): HttpErrorsTest
        String openapi = get("/q/openapi").body();
        assertTrue(openapi.contains("/v1/images/generations") && openapi.contains("/v1/jobs/{id}"), openapi);
    }

    @Test
    void anHttpClientThatDisconnectsCancelsItsGenerationAtTheStages() throws Exception {
        FakeStages[] samplers = {GatewayFakes.first, GatewayFakes.second};
        int calls = samplers[0].sampleCalls.get() + samplers[1].sampleCalls.get();
        int cancelled = samplers[0].cancelledSamples.get() + samplers[1].cancelledSamples.get();
        for (FakeStages f : samplers) {
            f.holdSamples = true;
        }
        try {
            int started;
            // a raw socket, so that the test decides when the connection goes
            try (Socket socket = new Socket("127.0.0.1", 18470)) {
                byte[] body = "{\"prompt\":\"a red circle\",\"n\":1}".getBytes(StandardCharsets.UTF_8);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/images/generations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                        + "\r\nAuthorization: Bearer " + GatewayFakes.ACME_KEY + "\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                started = awaitCount(() -> samplers[0].sampleCalls.get() + samplers[1].sampleCalls.get() - calls,
                        n -> n > 0);
            }
            int gone = awaitCount(() -> samplers[0].cancelledSamples.get() + samplers[1].cancelledSamples.get()
                    - cancelled, n -> n >= started);
            assertEquals(started, gone, "every held Sample call of the generation is cancelled");
        } finally {
            for (FakeStages f : samplers) {
                f.holdSamples = false;
            }
        }
    }

    /** Polls {@code count} until {@code done} (10 s at most) and returns its last value. */
    private static int awaitCount(IntSupplier count, IntPredicate done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int n = count.getAsInt();
        while (!done.test(n) && System.nanoTime() < end) {
            Thread.sleep(20);
            n = count.getAsInt();
        }
        assertTrue(done.test(n), "still " + n + " after 10 s");
        return n;
    }

    @Test
    void synchronousCallsSpreadOverBothReplicasOfAStage() {
        int first = GatewayFakes.first.sampleCalls.get();
        int second = GatewayFakes.second.sampleCalls.get();
        for (int i = 0; i < 20; i++) {
            gateway().generate(GenerateRequest.newBuilder().setCaption("a circle").setCandidates(1).setSeed(i).build());
        }
        int a = GatewayFakes.first.sampleCalls.get() - first;
        int b = GatewayFakes.second.sampleCalls.get() - second;
        assertEquals(20, a + b);
        assertTrue(a >= 5 && b >= 5, "round robin over two sampler replicas: " + a + " and " + b);
    }

    @Test
    void stagesServingDifferentBundlesMakeTheGatewayUnreadyAndUnavailableUntilTheyAgree() throws Exception {
        GatewayFakes.first.version[2] = "fake-bundle-2";
        try {
            awaitReadiness(503);
            assertTrue(manage("/q/health/ready").body().contains("the stages serve different bundles"));
            assertEquals(ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(channel)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> gateway().generate(
                    GenerateRequest.newBuilder().setCaption("a circle").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("decoder=fake-bundle-2"), e.getStatus().getDescription());
        } finally {
            GatewayFakes.first.version[2] = FakeStages.VERSION;
        }
        awaitReadiness(200);
    }
}
