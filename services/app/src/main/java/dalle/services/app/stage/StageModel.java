package dalle.services.app.stage;

import dalle.services.common.stage.StageException;
import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.ImageSampler;
import dalle.v1.ModelInfo;
import java.util.Objects;

/**
 * A loaded bundle as the stages see it: the core {@link Pipeline} (whose public stage methods every role calls,
 * so in-process, gRPC and Kafka give the same result), the batched {@link ImageSampler}, and the bundle's
 * {@link ModelInfo}. Owns the bundle: {@link #close()} frees the models.
 */
public final class StageModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final Pipeline pipeline;
    private final ImageSampler sampler;
    private final ModelInfo info;

    public StageModel(ModelBundle bundle) {
        this.bundle = Objects.requireNonNull(bundle, "bundle");
        this.pipeline = new Pipeline(bundle);
        this.sampler = new ImageSampler(bundle.prior());
        var pc = bundle.prior().config();
        this.info = ModelInfo.newBuilder()
                .setBundleVersion(bundle.version())
                .setPreset(bundle.manifest().preset() == null ? "" : bundle.manifest().preset())
                .setImageSize(bundle.dvae().config().imageSize())
                .setGridSize(pc.gridSize())
                .setTextLength(pc.textLength())
                .setTextVocabSize(pc.textVocab())
                .setImageVocabSize(pc.imageVocab())
                .build();
    }

    public ModelBundle bundle() {
        return bundle;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    public ImageSampler sampler() {
        return sampler;
    }

    /** The bundle's sizes and version, as every response reports them. */
    public ModelInfo info() {
        return info;
    }

    public String version() {
        return info.getBundleVersion();
    }

    /**
     * Checks a caller's bundle version (empty = do not check).
     *
     * @throws StageException FAILED_PRECONDITION when it names another bundle
     */
    public void checkVersion(String callerVersion) {
        dalle.services.common.stage.BundleVersions.check(callerVersion, version());
    }

    @Override
    public void close() {
        bundle.close();
    }
}
