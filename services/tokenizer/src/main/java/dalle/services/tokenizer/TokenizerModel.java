package dalle.services.tokenizer;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.stage.ModelInfos;
import dalle.v1.ModelInfo;
import dalle.v1.TokenizeResponse;
import java.nio.file.Path;
import java.util.Set;

/** The tokenizer part of a bundle: tokenizer.json and the text length of bundle.json's sizes. */
public final class TokenizerModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final Pipeline pipeline;
    private final ModelInfo info;

    private TokenizerModel(ModelBundle bundle) {
        this.bundle = bundle;
        this.pipeline = new Pipeline(bundle);
        this.info = ModelInfos.of(bundle);
    }

    /**
     * Loads and checks the tokenizer of the bundle in {@code dir} (other parts need not be there).
     *
     * @throws dalle.core.io.CheckpointException naming the file when the manifest or the tokenizer is unusable
     */
    public static TokenizerModel load(Path dir) {
        return new TokenizerModel(ModelBundle.load(dir, Set.of(BundlePart.TOKENIZER)));
    }

    public ModelInfo info() {
        return info;
    }

    /** The caption's padded text slots, as {@link Pipeline#tokenize}. */
    public int[] padded(String caption) {
        return pipeline.tokenize(caption);
    }

    /** The caption's raw ids (at most text_length of them) and padded slots. */
    public TokenizeResponse tokenize(String caption) {
        int textLength = info.getTextLength();
        int[] raw = bundle.tokenizer().encode(caption);
        TokenizeResponse.Builder b = TokenizeResponse.newBuilder().setTextLength(textLength)
                .setTruncated(raw.length > textLength).setBundleVersion(info.getBundleVersion());
        for (int i = 0; i < Math.min(raw.length, textLength); i++) {
            b.addIds(raw[i]);
        }
        for (int id : padded(caption)) {
            b.addPaddedIds(id);
        }
        return b.build();
    }

    @Override
    public void close() {
        bundle.close();
    }
}
