package dalle.services.tokenizer;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.services.common.stage.ModelInfos;
import dalle.services.common.stage.Requests;
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

    /**
     * The caption's padded text slots, as {@link Pipeline#tokenize}.
     *
     * @throws dalle.services.common.stage.FieldException naming {@code caption} when it holds no text (padding only)
     */
    public int[] padded(String caption) {
        raw(caption);
        return pipeline.tokenize(caption);
    }

    /** The caption's ids, unpadded, after checking they are text. */
    private int[] raw(String caption) {
        return Requests.textIds("caption", bundle.tokenizer().encode(caption), bundle.tokenizer().padId(),
                BpeTokenizer.PAD);
    }

    /** The caption's raw ids (at most text_length of them) and padded slots. */
    public TokenizeResponse tokenize(String caption) {
        int textLength = info.getTextLength();
        int[] raw = raw(caption);
        TokenizeResponse.Builder b = TokenizeResponse.newBuilder().setTextLength(textLength)
                .setTruncated(raw.length > textLength).setBundleVersion(info.getBundleVersion());
        for (int i = 0; i < Math.min(raw.length, textLength); i++) {
            b.addIds(raw[i]);
        }
        for (int id : pipeline.tokenize(caption)) {
            b.addPaddedIds(id);
        }
        return b.build();
    }

    @Override
    public void close() {
        bundle.close();
    }
}
