package dalle.services.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.ModelBundle;
import dalle.services.common.DeadLetters;
import dalle.services.common.TestBroker;
import dalle.services.common.Topics;
import dalle.v1.GenerationRequest;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizeResponse;
import dalle.v1.TokenizedRequest;
import dalle.v1.TokenizerGrpc;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer service from a bundle directory that holds only bundle.json and tokenizer.json, on a real broker:
 * ready after warm-up, gRPC (with health and reflection) and the Kafka stage, and no libtorch in the process.
 */
@QuarkusTest
@WithTestResource(TokenizerBundle.class)
class TokenizerServiceTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static ManagedChannel channel;

    @BeforeAll
    static void awaitReady() throws Exception {
        channel = ManagedChannelBuilder.forAddress("localhost", 19471).usePlaintext().build();
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
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18471" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface (health, metrics: quarkus.management.test-port). */
    static HttpResponse<String> manage(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18481" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readyFromABundleWithOnlyItsTokenizerAndNoLibtorchInTheProcess() throws Exception {
        assertFalse(Files.exists(TokenizerBundle.dir().resolve("prior")), "no weights in the bundle directory");
        assertTrue(manage("/q/health/ready").body().contains("ready: loaded and warmed up"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("ai.djl.pytorch.engine.PtEngine"),
                "DJL's PyTorch engine is not even on the tokenizer's classpath");
        String maps = Files.readString(Path.of("/proc/self/maps"), StandardCharsets.UTF_8);
        assertFalse(maps.contains("libtorch"), "libtorch is not mapped into this process");
    }

    @Test
    void tokenizeAndModelInfoOverGrpcMatchTheBundle() {
        var stub = TokenizerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        TokenizeResponse r = stub.tokenize(TokenizeRequest.newBuilder().setCaption("a large red square").build());
        BundleManifest manifest = ModelBundle.readManifest(TokenizerBundle.dir());
        assertEquals(manifest.sizes().textLength(), r.getPaddedIdsCount());
        assertEquals(manifest.version(), r.getBundleVersion());
        assertTrue(r.getIdsCount() > 0 && r.getIdsCount() < r.getPaddedIdsCount());
        ModelInfo info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());
        assertEquals(manifest.version(), info.getBundleVersion());
        assertEquals(manifest.sizes().imageSize(), info.getImageSize());
        assertEquals(manifest.sizes().gridSize(), info.getGridSize());
        assertEquals(manifest.sizes().imageVocabSize(), info.getImageVocabSize());
        assertEquals(manifest.sizes().textVocabSize(), info.getTextVocabSize());

        StatusRuntimeException blank = assertThrows(StatusRuntimeException.class,
                () -> stub.tokenize(TokenizeRequest.newBuilder().setCaption("  ").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, blank.getStatus().getCode());
        assertTrue(blank.getStatus().getDescription().startsWith("caption:"), blank.getStatus().getDescription());
        for (String padding : new String[] {"<pad>", "a red <pad> circle"}) {
            StatusRuntimeException pad = assertThrows(StatusRuntimeException.class,
                    () -> stub.tokenize(TokenizeRequest.newBuilder().setCaption(padding).build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, pad.getStatus().getCode(), padding);
            assertTrue(pad.getStatus().getDescription().startsWith("caption: contains <pad>"),
                    pad.getStatus().getDescription());
        }
    }

    @Test
    void grpcHealthIsServingOnceWarmAndReflectionListsTheService() throws Exception {
        var health = HealthGrpc.newBlockingStub(channel);
        assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
        assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder()
                .setService(TokenizerGrpc.SERVICE_NAME).build()).getStatus());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> health.check(
                HealthCheckRequest.newBuilder().setService("dalle.v1.Sampler").build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

        CompletableFuture<List<String>> services = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        services.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        services.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> names = services.get(30, TimeUnit.SECONDS);
        requests.onCompleted();
        assertTrue(names.contains(TokenizerGrpc.SERVICE_NAME) && names.contains("grpc.health.v1.Health"),
                names.toString());
    }

    @Test
    void theServerClosesAConnectionOnceItReachesItsMaximumAge() throws Exception {
        ManagedChannel own = ManagedChannelBuilder.forAddress("localhost", 19471).usePlaintext().build();
        try {
            TokenizerGrpc.newBlockingStub(own).tokenize(TokenizeRequest.newBuilder().setCaption("a circle").build());
            assertEquals(io.grpc.ConnectivityState.READY, own.getState(false));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (own.getState(false) == io.grpc.ConnectivityState.READY && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            // dalle.grpc.max-connection-age=1s: the server's GOAWAY sends the idle channel back to IDLE,
            // so the next call re-resolves and connects anew
            assertEquals(io.grpc.ConnectivityState.IDLE, own.getState(false));
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void bytesThatAreNotATokenizeRequestAreInvalidArgument() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
        java.util.Map<Status.Code, Integer> codes = new java.util.TreeMap<>();
        String example = null;
        for (int i = 0; i < 50; i++) {
            byte[] junk = new byte[1 + rng.nextInt(64)];
            for (int j = 0; j < junk.length; j++) {
                junk[j] = (byte) rng.nextInt(256);
            }
            Status s = dalle.services.common.grpc.RawCalls.call(channel, "dalle.v1.Tokenizer/Tokenize", junk);
            codes.merge(s.getCode(), 1, Integer::sum);
            if (s.getCode() != Status.Code.INVALID_ARGUMENT && s.getCode() != Status.Code.OK) {
                example = s.toString();
            }
        }
        // junk that happens to parse reaches the caption check instead, also INVALID_ARGUMENT
        assertEquals(java.util.Map.of(Status.Code.INVALID_ARGUMENT, 50), codes, example);
    }

    @Test
    void aRequestOnKafkaIsTokenizedAndABadOneIsDeadLettered() {
        String id = "tok-kafka-1";
        TestBroker.send(Topics.GENERATION_REQUESTS.name(), id, GenerationRequest.newBuilder().setRequestId(id)
                .setCaption("a small blue circle").setCandidates(4).setTopK(2).build().toByteArray());
        TestBroker.send(Topics.GENERATION_REQUESTS.name(), "tok-kafka-bad", GenerationRequest.newBuilder()
                .setRequestId("tok-kafka-bad").setCaption("").build().toByteArray());
        TestBroker.send(Topics.GENERATION_REQUESTS.name(), "tok-kafka-pad", GenerationRequest.newBuilder()
                .setRequestId("tok-kafka-pad").setCaption("<pad>").build().toByteArray());

        var out = TestBroker.await(Topics.TOKENIZED_REQUESTS.name(), 1,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals(id));
        TokenizedRequest t = Topics.TOKENIZED_REQUESTS.parse(out.get(0).value()).value();
        assertEquals(4, t.getContext().getCandidates());
        assertEquals(ModelBundle.readManifest(TokenizerBundle.dir()).sizes().textLength(),
                t.getContext().getTextTokensCount());
        var dead = TestBroker.await(Topics.deadLetterTopic(Topics.GENERATION_REQUESTS.name()), 1,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals("tok-kafka-bad"));
        String reason = new String(dead.get(0).headers().lastHeader(DeadLetters.REASON).value(), StandardCharsets.UTF_8);
        assertTrue(reason.startsWith("caption:"), reason);
        var pad = TestBroker.await(Topics.deadLetterTopic(Topics.GENERATION_REQUESTS.name()), 1,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals("tok-kafka-pad"));
        String padReason = new String(pad.get(0).headers().lastHeader(DeadLetters.REASON).value(), StandardCharsets.UTF_8);
        assertTrue(padReason.startsWith("caption: contains <pad>"), padReason);
    }
}
