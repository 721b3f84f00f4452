package dalle.services.reranker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import dalle.services.common.Topics;
import dalle.services.common.stage.Pngs;
import dalle.v1.CandidateImage;
import dalle.v1.CandidateScore;
import dalle.v1.GenerationContext;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.Image;
import dalle.v1.RawImage;
import dalle.v1.RerankerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reranker service from a bundle directory that holds only bundle.json, the reranker and the tokenizer, on a
 * real broker: ready after warm-up; gRPC (with or without tokens) and Kafka give the in-process pipeline's scores.
 */
@QuarkusTest
@WithTestResource(RerankerBundle.class)
class RerankerServiceTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static ManagedChannel channel;
    private static Pipeline whole;
    private static int[] text;
    private static List<RgbImage> images;
    private static float[] scores;

    @BeforeAll
    static void awaitReady() throws Exception {
        channel = ManagedChannelBuilder.forAddress("localhost", 19474).usePlaintext().build();
        whole = new Pipeline(ModelBundle.load(TestBundleParts.whole()));
        text = whole.tokenize("a blue square");
        images = whole.decode(whole.sample(text, 3, 0, 9L, SamplingParams.DEFAULT, Pipeline.Progress.NONE),
                Pipeline.Progress.NONE);
        scores = whole.score(text, images, Pipeline.Progress.NONE);
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
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18474" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface (health, metrics: quarkus.management.test-port). */
    static HttpResponse<String> manage(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18484" + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<Integer> tokens() {
        List<Integer> out = new ArrayList<>();
        for (int t : text) {
            out.add(t);
        }
        return out;
    }

    @Test
    void aCaptionOfPaddingOnlyIsInvalidArgument() {
        RgbImage img = images.get(0);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> RerankerGrpc
                .newBlockingStub(channel).score(ScoreRequest.newBuilder().setCaption("<pad>").addImages(Pngs.image(img))
                        .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("caption: contains <pad>"), e.getStatus().getDescription());
    }

    @Test
    void readyFromABundleWithOnlyItsPartsAndScoresAsTheInProcessPipeline() {
        var dir = TestBundleParts.only(BundlePart.CLIP, BundlePart.TOKENIZER);
        assertFalse(Files.exists(dir.resolve("prior")) || Files.exists(dir.resolve("dvae")));
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService(RerankerGrpc.SERVICE_NAME).build()).getStatus());
        var stub = RerankerGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        assertEquals(whole.bundle().version(), stub.getModelInfo(GetModelInfoRequest.getDefaultInstance())
                .getBundleVersion());
        ScoreRequest.Builder withTokens = ScoreRequest.newBuilder().setCaption("a blue square").addAllTextTokens(tokens());
        ScoreRequest.Builder captionOnly = ScoreRequest.newBuilder().setCaption("a blue square");
        for (RgbImage img : images) {
            withTokens.addImages(Pngs.image(img));
            captionOnly.addImages(Pngs.image(img));
        }
        ScoreResponse a = stub.score(withTokens.build());
        ScoreResponse b = stub.score(captionOnly.build());
        for (int i = 0; i < 3; i++) {
            assertEquals(scores[i], a.getScores(i), 0f, "image " + i + " with tokens");
            assertEquals(scores[i], b.getScores(i), 0f, "image " + i + " tokenized by the reranker");
        }
    }

    @Test
    void rawImagesScoreAsTheirPngsToTheBitAndBadOnesAreInvalidArgumentNamingThem() {
        var stub = RerankerGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        ScoreRequest.Builder raw = ScoreRequest.newBuilder().setCaption("a blue square").addAllTextTokens(tokens());
        for (RgbImage img : images) {
            raw.addRawImages(Pngs.raw(img));
        }
        ScoreResponse r = stub.score(raw.build());
        for (int i = 0; i < 3; i++) {
            assertEquals(Float.floatToRawIntBits(scores[i]), Float.floatToRawIntBits(r.getScores(i)), "raw image " + i);
        }
        assertTrue(r.getServerUs() > 0, "the reranker reports its own time");
        RawImage short1 = Pngs.raw(images.get(0)).toBuilder().setRgb(ByteString.copyFrom(new byte[5])).build();
        StatusRuntimeException bytes = assertThrows(StatusRuntimeException.class, () -> stub.score(ScoreRequest
                .newBuilder().setCaption("a circle").addRawImages(short1).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, bytes.getStatus().getCode());
        assertTrue(bytes.getStatus().getDescription().startsWith("raw_images[0].rgb: 5 bytes"),
                bytes.getStatus().getDescription());
        StatusRuntimeException both = assertThrows(StatusRuntimeException.class, () -> stub.score(raw.clone()
                .addImages(Pngs.image(images.get(0))).build()));
        assertTrue(both.getStatus().getDescription().startsWith("raw_images:"), both.getStatus().getDescription());
    }

    @Test
    void anUnreadableImageIsInvalidArgumentNamingIt() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> RerankerGrpc
                .newBlockingStub(channel).score(ScoreRequest.newBuilder().setCaption("a circle").addImages(Image
                        .newBuilder().setPng(ByteString.copyFromUtf8("not a png"))).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("images[0].png:"), e.getStatus().getDescription());
    }

    @Test
    void anImageDeclaringHugeDimensionsIsRefusedOverGrpcAndDeadLetteredOverKafkaBeforeDecoding() throws Exception {
        Image huge = Image.newBuilder().setPng(ByteString.copyFrom(dalle.services.common.stage.PngsTest
                .declaring(30_000, 30_000))).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> RerankerGrpc
                .newBlockingStub(channel).score(ScoreRequest.newBuilder().setCaption("a circle").addImages(huge)
                        .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("declares 30000x30000 pixels"), e.getStatus().getDescription());
        String id = "reranker-huge-1";
        GenerationContext ctx = GenerationContext.newBuilder().setCaption("a blue square").setCandidates(1).setTopK(1)
                .setSeed(9).addAllTextTokens(tokens()).setBundleVersion(whole.bundle().version()).build();
        TestBroker.send(Topics.CANDIDATE_IMAGES.name(), id, CandidateImage.newBuilder().setRequestId(id)
                .setCandidateIndex(0).setContext(ctx).setImage(huge).build().toByteArray());
        var dead = TestBroker.await(Topics.deadLetterTopic(Topics.CANDIDATE_IMAGES.name()), 1,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals(id));
        String reason = dalle.services.common.DeadLetters.header(dead.get(0).headers(),
                dalle.services.common.DeadLetters.REASON);
        assertTrue(reason.contains("declares 30000x30000 pixels"), reason);
    }

    @Test
    void candidateImagesOnKafkaBecomeCandidateScoresWithTheInProcessScores() {
        String id = "reranker-kafka-1";
        GenerationContext ctx = GenerationContext.newBuilder().setCaption("a blue square").setCandidates(3).setTopK(1)
                .setSeed(9).addAllTextTokens(tokens()).setBundleVersion(whole.bundle().version()).build();
        for (int i = 0; i < 3; i++) {
            TestBroker.send(Topics.CANDIDATE_IMAGES.name(), id, CandidateImage.newBuilder().setRequestId(id)
                    .setCandidateIndex(i).setContext(ctx).setImage(Pngs.image(images.get(i))).build().toByteArray());
        }
        var records = TestBroker.await(Topics.CANDIDATE_SCORES.name(), 3,
                r -> new String(r.key(), StandardCharsets.UTF_8).equals(id));
        float[] got = new float[3];
        for (var r : records) {
            CandidateScore s = Topics.CANDIDATE_SCORES.parse(r.value()).value();
            got[s.getCandidateIndex()] = s.getScore();
        }
        assertArrayEquals(scores, got, 0f);
    }
}
