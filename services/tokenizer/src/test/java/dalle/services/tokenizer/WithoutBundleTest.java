package dalle.services.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizerGrpc;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A tokenizer whose bundle is missing stays not ready and NOT_SERVING, and says why, instead of serving. */
@QuarkusTest
@TestProfile(WithoutBundleTest.NoBundle.class)
class WithoutBundleTest {

    /** dalle.model names a folder that does not exist; Kafka off. */
    public static class NoBundle implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("dalle.model", "target/no-such-bundle", "dalle.kafka.enabled", "false");
        }
    }

    @Test
    void readinessIsDownWithTheReasonAndGrpcSaysNotServingAndUnavailable() throws Exception {
        Thread.sleep(500); // let the loader fail
        var ready = TokenizerServiceTest.manage("/q/health/ready");
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("loading failed") && ready.body().contains("no-such-bundle"), ready.body());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", 19471).usePlaintext().build();
        try {
            assertEquals(ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(channel)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> TokenizerGrpc
                    .newBlockingStub(channel).tokenize(TokenizeRequest.newBuilder().setCaption("a circle").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().startsWith("tokenizer is not ready: loading failed"),
                    e.getStatus().getDescription());
        } finally {
            channel.shutdownNow();
        }
    }
}
