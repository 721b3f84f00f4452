package dalle.services.sampler;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.sampling.ImageSampler;
import dalle.services.common.stage.ModelInfos;
import dalle.v1.ModelInfo;
import java.nio.file.Path;
import java.util.Set;

/** The prior of a bundle and its batched sampler. */
public final class SamplerModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final ImageSampler sampler;
    private final ModelInfo info;

    private SamplerModel(ModelBundle bundle) {
        this.bundle = bundle;
        this.sampler = new ImageSampler(bundle.prior());
        this.info = ModelInfos.of(bundle);
    }

    /**
     * Loads and checks the prior of the bundle in {@code dir} (other parts need not be there).
     *
     * @throws dalle.core.io.CheckpointException naming the file when the manifest or the prior is unusable
     */
    public static SamplerModel load(Path dir) {
        return new SamplerModel(ModelBundle.load(dir, Set.of(BundlePart.PRIOR)));
    }

    public ModelInfo info() {
        return info;
    }

    public ImageSampler sampler() {
        return sampler;
    }

    /** Image tokens per candidate: grid_size². */
    public int imageTokens() {
        return info.getGridSize() * info.getGridSize();
    }

    /** Padded text slots that hold nothing but padding (the warm-up's caption). */
    public int[] emptyText() {
        int[] text = new int[info.getTextLength()];
        java.util.Arrays.fill(text, bundle.prior().config().padTokenId());
        return text;
    }

    @Override
    public void close() {
        bundle.close();
    }
}
