package dalle.services.gateway;

import com.google.protobuf.ByteString;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeAndScoreRequest;
import dalle.v1.DecodeAndScoreResponse;
import dalle.v1.DecodeAndScoreTimings;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.DecoderGrpc;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.Image;
import dalle.v1.ModelInfo;
import dalle.v1.RankedImage;
import dalle.v1.RerankerGrpc;
import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.SamplerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizeResponse;
import dalle.v1.TokenizerGrpc;
import io.grpc.Server;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;

/**
 * Stand-in stage servers for the gateway's own tests (the real stages across processes are in {@code tests/}):
 * real gRPC servers with simple, deterministic answers. Candidate i's image is one grey level, i·20, and its score
 * is that level, so the best candidate is the highest index. Each stage reports {@link #version} and counts its
 * calls.
 */
public final class FakeStages implements AutoCloseable {

    /** The bundle the fakes report (a test may change one stage's to make them disagree). */
    public static final String VERSION = "fake-bundle-1";
    static final ModelInfo INFO = ModelInfo.newBuilder().setBundleVersion(VERSION).setPreset("custom")
            .setImageSize(8).setGridSize(2).setTextLength(4).setTextVocabSize(50).setImageVocabSize(256).build();

    /** The version each stage reports; index 0 tokenizer, 1 sampler, 2 decoder, 3 reranker. */
    public final String[] version = {VERSION, VERSION, VERSION, VERSION};
    /** The request id of the last Tokenize call (the id as the pipeline sees it, tenant included). */
    public volatile String lastTokenizeId;
    /** Sample calls served. */
    public final AtomicInteger sampleCalls = new AtomicInteger();
    /** While set, Sample calls get no answer until their caller cancels them; those cancels are counted. */
    public volatile boolean holdSamples;
    /** Held Sample calls that their caller cancelled. */
    public final AtomicInteger cancelledSamples = new AtomicInteger();
    /** Decode calls served. */
    public final AtomicInteger decodeCalls = new AtomicInteger();
    /** DecodeAndScore calls served (the decoder scoring through the reranker itself). */
    public final AtomicInteger decodeAndScoreCalls = new AtomicInteger();
    /** Score calls the gateway made (DecodeAndScore's own scoring is not one). */
    public final AtomicInteger scoreCalls = new AtomicInteger();
    private final Server server;

    /** All four stages on one free port. */
    public FakeStages() throws IOException {
        this(io.grpc.InsecureServerCredentials.create());
    }

    /** All four stages on one free port, with these credentials (TLS, mutual TLS). */
    public FakeStages(io.grpc.ServerCredentials credentials) throws IOException {
        server = io.grpc.Grpc.newServerBuilderForPort(0, credentials).addService(new Tokenizer())
                .addService(new Sampler()).addService(new Decoder()).addService(new Reranker()).build().start();
    }

    public int port() {
        return server.getPort();
    }

    private ModelInfo info(int stage) {
        return INFO.toBuilder().setBundleVersion(version[stage]).build();
    }

    private static void reply(StreamObserver<ModelInfo> r, ModelInfo info) {
        r.onNext(info);
        r.onCompleted();
    }

    private final class Tokenizer extends TokenizerGrpc.TokenizerImplBase {
        @Override
        public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> r) {
            lastTokenizeId = request.getRequestId();
            r.onNext(TokenizeResponse.newBuilder().addIds(1).addPaddedIds(1).addPaddedIds(0).addPaddedIds(0)
                    .addPaddedIds(0).setTextLength(4).setBundleVersion(version[0]).build());
            r.onCompleted();
        }

        @Override
        public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> r) {
            reply(r, info(0));
        }
    }

    private final class Sampler extends SamplerGrpc.SamplerImplBase {
        @Override
        public void sample(SampleRequest request, StreamObserver<SampledCandidate> r) {
            sampleCalls.incrementAndGet();
            if (holdSamples) {
                ((ServerCallStreamObserver<SampledCandidate>) r).setOnCancelHandler(cancelledSamples::incrementAndGet);
                return;
            }
            for (int i = 0; i < request.getCandidates(); i++) {
                int index = request.getFirstCandidateIndex() + i;
                r.onNext(SampledCandidate.newBuilder().setCandidateIndex(index).setBundleVersion(version[1])
                        .setGrid(CodeGrid.newBuilder().setGridSize(2).addCodes(index).addCodes(0).addCodes(0)
                                .addCodes(0)).build());
            }
            r.onCompleted();
        }

        @Override
        public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> r) {
            reply(r, info(1));
        }
    }

    private final class Decoder extends DecoderGrpc.DecoderImplBase {
        @Override
        public void decode(DecodeRequest request, StreamObserver<DecodeResponse> r) {
            decodeCalls.incrementAndGet();
            DecodeResponse.Builder b = DecodeResponse.newBuilder().setBundleVersion(version[2]);
            for (CodeGrid g : request.getGridsList()) {
                b.addImages(grey(g.getCodes(0) * 20));
            }
            r.onNext(b.build());
            r.onCompleted();
        }

        /** Decode, then the fake reranker's scores; the best top_k images, best first (ties: lower index). */
        @Override
        public void decodeAndScore(DecodeAndScoreRequest request, StreamObserver<DecodeAndScoreResponse> r) {
            decodeAndScoreCalls.incrementAndGet();
            int n = request.getGridsCount();
            List<Image> images = new ArrayList<>();
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                images.add(grey(request.getGrids(i).getCodes(0) * 20));
                scores[i] = level(images.get(i));
            }
            DecodeAndScoreResponse.Builder b = DecodeAndScoreResponse.newBuilder().setBundleVersion(version[2])
                    .setTimings(DecodeAndScoreTimings.newBuilder().setServerUs(3).setDecodeUs(1).setScoreCallUs(2)
                            .setRerankServerUs(1));
            int[] order = dalle.core.pipeline.Ranking.order(scores);
            int topK = request.getTopK() == 0 ? n : request.getTopK();
            for (int i = 0; i < n; i++) {
                b.addScores(scores[i]);
            }
            for (int k = 0; k < topK; k++) {
                b.addImages(RankedImage.newBuilder().setRank(k + 1).setCandidateIndex(order[k])
                        .setScore(scores[order[k]]).setImage(images.get(order[k])));
            }
            r.onNext(b.build());
            r.onCompleted();
        }

        @Override
        public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> r) {
            reply(r, info(2));
        }
    }

    private final class Reranker extends RerankerGrpc.RerankerImplBase {
        @Override
        public void score(ScoreRequest request, StreamObserver<ScoreResponse> r) {
            scoreCalls.incrementAndGet();
            ScoreResponse.Builder b = ScoreResponse.newBuilder().setBundleVersion(version[3]);
            for (Image img : request.getImagesList()) {
                b.addScores(level(img));
            }
            r.onNext(b.build());
            r.onCompleted();
        }

        @Override
        public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> r) {
            reply(r, info(3));
        }
    }

    /** The grey level of an image's first pixel: the fake reranker's score. */
    static int level(Image img) {
        try {
            BufferedImage bi = ImageIO.read(img.getPng().newInput());
            return bi.getRGB(0, 0) & 0xff;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An 8×8 PNG of one grey level. */
    static Image grey(int level) {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                img.setRGB(x, y, level << 16 | level << 8 | level);
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Image.newBuilder().setPng(ByteString.copyFrom(png.toByteArray())).setWidth(8).setHeight(8).build();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
