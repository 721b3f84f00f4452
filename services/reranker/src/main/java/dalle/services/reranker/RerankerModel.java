package dalle.services.reranker;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.services.common.stage.ModelInfos;
import dalle.services.common.stage.Requests;
import dalle.v1.ModelInfo;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

/**
 * The reranker of a bundle and its tokenizer (for captions sent without tokens): scores images against a caption
 * as {@link Pipeline#score} does, on the images' 8-bit encoding.
 */
public final class RerankerModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final Pipeline pipeline;
    private final ModelInfo info;

    private RerankerModel(ModelBundle bundle) {
        this.bundle = bundle;
        this.pipeline = new Pipeline(bundle);
        this.info = ModelInfos.of(bundle);
    }

    /**
     * Loads and checks the reranker and the tokenizer of the bundle in {@code dir} (other parts need not be there).
     *
     * @throws dalle.core.io.CheckpointException naming the file when the manifest or a part is unusable
     */
    public static RerankerModel load(Path dir) {
        return new RerankerModel(ModelBundle.load(dir, EnumSet.of(BundlePart.CLIP, BundlePart.TOKENIZER)));
    }

    public ModelInfo info() {
        return info;
    }

    /** The side, in pixels, of the images the reranker reads (others are resampled to it). */
    public int imageSize() {
        return bundle.clip().config().imageSize();
    }

    /**
     * A caption's padded text slots, as the tokenizer stage makes them.
     *
     * @throws dalle.services.common.stage.FieldException naming {@code caption} when it holds no text (padding only)
     */
    public int[] tokenize(String caption) {
        Requests.textIds("caption", bundle.tokenizer().encode(caption), bundle.tokenizer().padId(), BpeTokenizer.PAD);
        return pipeline.tokenize(caption);
    }

    /** Scores of images against padded text slots; call on the stage thread. */
    public float[] score(int[] text, List<RgbImage> images) {
        return pipeline.score(text, images, Pipeline.Progress.NONE);
    }

    @Override
    public void close() {
        bundle.close();
    }
}
