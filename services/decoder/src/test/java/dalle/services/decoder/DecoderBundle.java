package dalle.services.decoder;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.TestBroker;
import dalle.services.common.TestBundleParts;
import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.v1.RerankerGrpc;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * For @QuarkusTest: the test broker with the registry's topics, a bundle directory with only bundle.json and the
 * dVAE, and a reranker for DecodeAndScore to call: a real gRPC server scoring with the whole test bundle's
 * {@link Pipeline#score} (the code the reranker service runs), its caption checked as the service checks it.
 */
public class DecoderBundle implements QuarkusTestResourceLifecycleManager {

    /** Score calls the stand-in reranker served. */
    static final AtomicInteger SCORE_CALLS = new AtomicInteger();
    private Server reranker;
    private ModelBundle bundle;

    @Override
    public Map<String, String> start() {
        bundle = ModelBundle.load(TestBundleParts.whole());
        Pipeline pipeline = new Pipeline(bundle);
        try {
            reranker = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(new RerankerGrpc.RerankerImplBase() {
                        @Override
                        public void score(ScoreRequest request, StreamObserver<ScoreResponse> response) {
                            SCORE_CALLS.incrementAndGet();
                            try {
                                Requests.caption("caption", request.getCaption());
                                List<RgbImage> images = new ArrayList<>();
                                int size = bundle.clip().config().imageSize();
                                for (int i = 0; i < request.getImagesCount(); i++) {
                                    images.add(Pngs.read("images[" + i + "]", request.getImages(i), size));
                                }
                                for (int i = 0; i < request.getRawImagesCount(); i++) {
                                    images.add(Pngs.read("raw_images[" + i + "]", request.getRawImages(i), size));
                                }
                                int[] text = request.getTextTokensList().stream().mapToInt(Integer::intValue).toArray();
                                ScoreResponse.Builder b = ScoreResponse.newBuilder()
                                        .setBundleVersion(bundle.version()).setServerUs(7);
                                for (float s : pipeline.score(text, images, Pipeline.Progress.NONE)) {
                                    b.addScores(s);
                                }
                                response.onNext(b.build());
                                response.onCompleted();
                            } catch (RuntimeException e) {
                                response.onError(GrpcErrors.toStatus(e));
                            }
                        }
                    }).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("kafka.bootstrap.servers", TestBroker.withTopics(),
                "dalle.model", TestBundleParts.only(BundlePart.DVAE).toString(),
                "dalle.reranker.address", "127.0.0.1:" + reranker.getPort());
    }

    @Override
    public void stop() {
        reranker.shutdownNow();
        bundle.close();
    }
}
