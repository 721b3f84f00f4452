package dalle.services.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.SamplerGrpc;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A process that runs only the sampler role (as one Deployment of `dalle up` would), without Kafka. */
@QuarkusTest
@TestProfile(SamplerOnlyTest.SamplerOnly.class)
class SamplerOnlyTest {

    /** dalle.roles=sampler, Kafka off, the test bundle. */
    public static class SamplerOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("dalle.roles", "sampler", "dalle.kafka.enabled", "false",
                    "dalle.model", TestModel.dir().toString());
        }
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://localhost:18481" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void onlyTheSamplerServesAndTheOtherRolesSayTheyAreOff() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (get("/q/health/ready").statusCode() != 200 && System.nanoTime() < end) {
            Thread.sleep(200);
        }
        HttpResponse<String> ready = get("/q/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("[SAMPLER]"), ready.body());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", 19481).usePlaintext().build();
        try {
            StatusRuntimeException off = assertThrows(StatusRuntimeException.class, () -> TokenizerGrpc
                    .newBlockingStub(channel).tokenize(TokenizeRequest.newBuilder().setCaption("a circle").build()));
            assertEquals(Status.Code.UNAVAILABLE, off.getStatus().getCode());
            assertTrue(off.getStatus().getDescription().contains("tokenizer role does not run"),
                    off.getStatus().getDescription());
            List<SampledCandidate> got = new ArrayList<>();
            SamplerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .sample(SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(8, 0)).setCandidates(3)
                            .setFirstCandidateIndex(5).setSeed(1).build()).forEachRemaining(got::add);
            assertEquals(3, got.size());
            assertEquals(16, got.get(0).getGrid().getCodesCount());
        } finally {
            channel.shutdownNow();
        }
        String metrics = get("/q/metrics").body();
        assertTrue(metrics.contains("dalle_sampler_candidates_total 3.0"), "sampled candidates counted");
        assertEquals(503, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://localhost:18481/v1/images/generations"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a circle\"}")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "the gateway role is off");
        assertEquals(200, get("/q/health/live").statusCode());
    }
}
