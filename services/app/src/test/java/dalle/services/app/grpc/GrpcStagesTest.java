package dalle.services.app.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dalle.core.pipeline.Candidate;
import dalle.core.pipeline.Generation;
import dalle.core.pipeline.GenerationRequest;
import dalle.services.app.TestModel;
import dalle.services.app.gateway.GatewayCore;
import dalle.services.app.gateway.GatewayService;
import dalle.services.app.gateway.Jobs;
import dalle.services.app.gateway.StageClients;
import dalle.services.app.stage.SamplerBatcher;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.services.app.stage.StageModel;
import dalle.services.app.stage.StageRuntime;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeRequest;
import dalle.v1.DecoderGrpc;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateProgress;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.Image;
import dalle.v1.RankedImage;
import dalle.v1.RerankerGrpc;
import dalle.v1.SampleRequest;
import dalle.v1.SamplerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The five gRPC services on a real (Netty) server, called over TCP as clients would, the gateway included. */
class GrpcStagesTest {

    private static StageModel model;
    private static StageMetrics metrics;
    private static StageRuntime runtime;
    private static Server server;
    private static ManagedChannel channel;
    private static StageClients clients;
    private static ExecutorService executor;

    @BeforeAll
    static void start() throws Exception {
        model = TestModel.model();
        metrics = new StageMetrics(new SimpleMeterRegistry());
        // a 50 ms batching delay, so a request with a 1 ms deadline is still queued when its deadline passes
        runtime = new StageRuntime(model, new StageRuntime.Settings(
                new SamplerBatcher.Settings(16, Duration.ofMillis(50), 32), 8), metrics);
        executor = new ThreadPoolExecutor(2, 2, 1, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4));
        server = ServerBuilder.forPort(0)
                .addService(new TokenizerService(role -> runtime))
                .addService(new SamplerService(role -> runtime))
                .addService(new DecoderService(role -> runtime))
                .addService(new RerankerService(role -> runtime))
                .build().start();
        String address = "localhost:" + server.getPort();
        clients = new StageClients(address, address, address, address);
        GatewayCore core = new GatewayCore(clients, model::info, Duration.ofMinutes(1));
        Server gateway = ServerBuilder.forPort(0).addService(new GatewayService(new GatewayService.Access() {
            @Override
            public GatewayCore core() {
                return core;
            }

            @Override
            public Jobs jobs() {
                throw new StageException(dalle.v1.ErrorCode.ERROR_CODE_UNAVAILABLE, "no Kafka in this test");
            }

            @Override
            public ExecutorService executor() {
                return executor;
            }
        })).build().start();
        gatewayServer = gateway;
        channel = ManagedChannelBuilder.forAddress("localhost", gateway.getPort()).usePlaintext().build();
        stageChannel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    }

    private static Server gatewayServer;
    private static ManagedChannel stageChannel;

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        stageChannel.shutdownNow();
        clients.close();
        gatewayServer.shutdownNow();
        server.shutdownNow();
        executor.shutdownNow();
        runtime.close();
    }

    private static GatewayGrpc.GatewayBlockingStub gateway() {
        return GatewayGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @Test
    void generateReturnsTheTopKImagesBestFirst() {
        GenerateResponse r = gateway().generate(GenerateRequest.newBuilder().setCaption("a red circle")
                .setCandidates(5).setTopK(3).setSeed(11).build());
        assertEquals(3, r.getImagesCount());
        for (int k = 0; k < 3; k++) {
            RankedImage img = r.getImages(k);
            assertEquals(k + 1, img.getRank());
            assertEquals(32, img.getImage().getWidth());
            assertTrue(img.getImage().getPng().startsWith(ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G'})));
            if (k > 0) {
                assertTrue(r.getImages(k - 1).getScore() >= img.getScore(), "ranked best first");
            }
        }
        assertEquals(model.version(), r.getModel().getBundleVersion());
        assertEquals(11, r.getSeed());
    }

    @Test
    void generateGivesTheSamePngBytesAsTheInProcessPipeline() {
        GenerateResponse r = gateway().generate(GenerateRequest.newBuilder().setCaption("a small blue square")
                .setCandidates(4).setTopK(4).setSeed(42).build());
        Generation local = model.pipeline().generate(GenerationRequest.of("a small blue square", 4, 4, 42L));
        assertEquals(4, r.getImagesCount());
        for (RankedImage img : r.getImagesList()) {
            Candidate c = local.ranked().stream().filter(x -> x.index() == img.getCandidateIndex()).findFirst()
                    .orElseThrow();
            assertArrayEquals(c.image().toPng(), img.getImage().getPng().toByteArray(),
                    "candidate " + img.getCandidateIndex());
        }
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
    void badInputIsInvalidArgumentNamingTheField() {
        assertInvalid("caption", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("  ").build()));
        assertInvalid("top_k", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("a circle")
                .setCandidates(2).setTopK(3).build()));
        assertInvalid("params.top_p", () -> gateway().generate(GenerateRequest.newBuilder().setCaption("a circle")
                .setParams(dalle.v1.SamplingParams.newBuilder().setTopP(1.5f)).build()));
        assertInvalid("caption", () -> TokenizerGrpc.newBlockingStub(stageChannel)
                .tokenize(TokenizeRequest.newBuilder().setCaption("x".repeat(1001)).build()));
        assertInvalid("text_tokens", () -> SamplerGrpc.newBlockingStub(stageChannel)
                .sample(SampleRequest.newBuilder().addTextTokens(1).setCandidates(1).build()).hasNext());
        int textLength = model.info().getTextLength();
        assertInvalid("candidates", () -> SamplerGrpc.newBlockingStub(stageChannel)
                .sample(SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(textLength, 0))
                        .setCandidates(0).build()).hasNext());
        assertInvalid("grids[0].codes[0]", () -> DecoderGrpc.newBlockingStub(stageChannel)
                .decode(DecodeRequest.newBuilder().addGrids(CodeGrid.newBuilder().setGridSize(4)
                        .addAllCodes(Collections.nCopies(16, 9999))).build()));
        assertInvalid("images[0].png", () -> RerankerGrpc.newBlockingStub(stageChannel)
                .score(ScoreRequest.newBuilder().setCaption("a circle").addImages(Image.newBuilder()
                        .setPng(ByteString.copyFromUtf8("not a png"))).build()));
    }

    @Test
    void aOneMillisecondDeadlineIsExceededAndTheSamplerDoesNotCompute() throws Exception {
        long before = metrics.sampledCandidates();
        int textLength = model.info().getTextLength();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> SamplerGrpc
                .newBlockingStub(stageChannel).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                .sample(SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(textLength, 0))
                        .setCandidates(2).setSeed(5).build()).forEachRemaining(c -> { }));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        Thread.sleep(300); // longer than the batching delay: a batch with the request would have run by now
        assertEquals(before, metrics.sampledCandidates(), "no candidate of the late request was sampled");

        StatusRuntimeException g = assertThrows(StatusRuntimeException.class, () -> GatewayGrpc
                .newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                .generate(GenerateRequest.newBuilder().setCaption("a red circle").build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, g.getStatus().getCode());
    }

    @Test
    void aSamplerQueueOverflowIsResourceExhausted() {
        int textLength = model.info().getTextLength();
        // the queue holds 32 candidates: 33 never fit
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> SamplerGrpc
                .newBlockingStub(stageChannel).sample(SampleRequest.newBuilder()
                        .addAllTextTokens(Collections.nCopies(textLength, 0)).setCandidates(33).build()).hasNext());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    }
}
