package dalle.services.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import dalle.services.common.Topics;
import dalle.v1.CandidateImage;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeAndScoreRequest;
import dalle.v1.DecodeAndScoreResponse;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.DecoderGrpc;
import dalle.v1.GenerationContext;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ImageCodes;
import dalle.v1.RankedImage;
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
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The decoder service from a bundle directory that holds only bundle.json and the dVAE, on a real broker: ready
 * after warm-up; gRPC and Kafka give the in-process pipeline's PNG bytes; bad grids are INVALID_ARGUMENT.
 */
@QuarkusTest
@WithTestResource(DecoderBundle.class)
class DecoderServiceTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static ManagedChannel channel;
    private static Pipeline whole;
    private static List<int[]> codes;
    private static List<RgbImage> images;

    @BeforeAll
    static void awaitReady() throws Exception {
        channel = ManagedChannelBuilder.forAddress("localhost", 19473).usePlaintext().build();
        whole = new Pipeline(ModelBundle.load(TestBundleParts.whole()));
        codes = whole.sample(whole.tokenize("a red circle"), 3, 0, 5L, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
        images = whole.decode(codes, Pipeline.Progress.NONE);
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
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18473" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface (health, metrics: quarkus.management.test-port). */
    static HttpResponse<String> manage(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18483" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static CodeGrid grid(int[] c) {
        CodeGrid.Builder b = CodeGrid.newBuilder().setGridSize(whole.bundle().sizes().gridSize());
        for (int x : c) {
            b.addCodes(x);
        }
        return b.build();
    }

    @Test
    void readyFromABundleWithOnlyTheDvaeAndDecodesTheInProcessPipelinesPngBytes() {
        var dir = TestBundleParts.only(BundlePart.DVAE);
        assertFalse(Files.exists(dir.resolve("prior")) || Files.exists(dir.resolve("tokenizer.json")));
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService(DecoderGrpc.SERVICE_NAME).build()).getStatus());
        var stub = DecoderGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        assertEquals(whole.bundle().version(), stub.getModelInfo(GetModelInfoRequest.getDefaultInstance())
                .getBundleVersion());
        DecodeRequest.Builder req = DecodeRequest.newBuilder();
        codes.forEach(c -> req.addGrids(grid(c)));
        DecodeResponse r = stub.decode(req.build());
        assertEquals(3, r.getImagesCount());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(images.get(i).toPng(), r.getImages(i).getPng().toByteArray(), "image " + i);
        }
    }

    @Test
    void decodeAndScoreGivesDecodesPngBytesAndTheInProcessScoresKeepingTheBestTopK() {
        var stub = DecoderGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        int[] text = whole.tokenize("a red circle");
        float[] expected = whole.score(text, images, Pipeline.Progress.NONE);
        int[] order = dalle.core.pipeline.Ranking.order(expected);
        DecodeAndScoreRequest.Builder req = DecodeAndScoreRequest.newBuilder().setCaption("a red circle").setTopK(2)
                .setBundleVersion(whole.bundle().version());
        codes.forEach(c -> req.addGrids(grid(c)));
        for (int t : text) {
            req.addTextTokens(t);
        }
        int calls = DecoderBundle.SCORE_CALLS.get();
        DecodeAndScoreResponse r = stub.decodeAndScore(req.build());
        assertEquals(calls + 1, DecoderBundle.SCORE_CALLS.get(), "one Score call from the decoder to the reranker");
        assertEquals(3, r.getScoresCount());
        for (int i = 0; i < 3; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(r.getScores(i)), "score " + i);
        }
        assertEquals(2, r.getImagesCount(), "only the best top_k images come back");
        for (int k = 0; k < 2; k++) {
            RankedImage kept = r.getImages(k);
            assertEquals(k + 1, kept.getRank());
            assertEquals(order[k], kept.getCandidateIndex());
            assertArrayEquals(images.get(order[k]).toPng(), kept.getImage().getPng().toByteArray(), "rank " + (k + 1));
        }
        assertEquals(7, r.getTimings().getRerankServerUs(), "the reranker's own time, as it reported it");
        assertTrue(r.getTimings().getServerUs() >= r.getTimings().getDecodeUs() + r.getTimings().getScoreCallUs(),
                r.getTimings().toString());

        // the reranker's status reaches the caller unchanged; a bad top_k is the decoder's own INVALID_ARGUMENT
        StatusRuntimeException blank = assertThrows(StatusRuntimeException.class,
                () -> stub.decodeAndScore(req.clone().setCaption("  ").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, blank.getStatus().getCode());
        assertTrue(blank.getStatus().getDescription().startsWith("caption"), blank.getStatus().getDescription());
        StatusRuntimeException topK = assertThrows(StatusRuntimeException.class,
                () -> stub.decodeAndScore(req.clone().setTopK(4).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, topK.getStatus().getCode());
        assertTrue(topK.getStatus().getDescription().startsWith("top_k"), topK.getStatus().getDescription());
    }

    @Test
    void badGridsAreInvalidArgumentNamingTheField() {
        var stub = DecoderGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        int cells = whole.bundle().sizes().gridSize() * whole.bundle().sizes().gridSize();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.decode(DecodeRequest
                .newBuilder().addGrids(CodeGrid.newBuilder().setGridSize(whole.bundle().sizes().gridSize())
                        .addAllCodes(Collections.nCopies(cells, 9999))).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("grids[0].codes[0]:"), e.getStatus().getDescription());
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> stub.decode(DecodeRequest.getDefaultInstance()));
        assertTrue(none.getStatus().getDescription().startsWith("grids:"), none.getStatus().getDescription());
    }

    @Test
    void imageCodesOnKafkaBecomeCandidateImagesWithTheInProcessBytes() {
        String id = "decoder-kafka-1";
        GenerationContext ctx = GenerationContext.newBuilder().setCaption("a red circle").setCandidates(3).setTopK(1)
                .setSeed(5).setBundleVersion(whole.bundle().version()).build();
        for (int i = 0; i < 3; i++) {
            TestBroker.send(Topics.IMAGE_CODES.name(), id, ImageCodes.newBuilder().setRequestId(id)
                    .setCandidateIndex(i).setContext(ctx).setGrid(grid(codes.get(i))).build().toByteArray());
        }
        var records = TestBroker.await(Topics.CANDIDATE_IMAGES.name(), 3,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals(id));
        for (var r : records) {
            CandidateImage c = Topics.CANDIDATE_IMAGES.parse(r.value()).value();
            assertArrayEquals(images.get(c.getCandidateIndex()).toPng(), c.getImage().getPng().toByteArray(),
                    "candidate " + c.getCandidateIndex());
        }
    }
}
