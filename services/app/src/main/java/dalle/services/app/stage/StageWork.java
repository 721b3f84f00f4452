package dalle.services.app.stage;

import dalle.core.image.RgbImage;
import dalle.services.common.stage.Pngs;
import dalle.v1.Image;
import dalle.v1.TokenizeResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The stage computations that gRPC and Kafka share, around core's {@link dalle.core.pipeline.Pipeline} stage
 * methods. Call them on a stage thread (they run the models).
 */
public final class StageWork {

    private StageWork() {
    }

    /** Caption to raw and padded BPE ids, as {@link dalle.core.pipeline.Pipeline#tokenize}. */
    public static TokenizeResponse tokenize(StageModel model, String caption) {
        int textLength = model.info().getTextLength();
        int[] raw = model.bundle().tokenizer().encode(caption);
        int[] padded = model.pipeline().tokenize(caption);
        TokenizeResponse.Builder b = TokenizeResponse.newBuilder()
                .setTextLength(textLength)
                .setTruncated(raw.length > textLength)
                .setBundleVersion(model.version());
        for (int i = 0; i < Math.min(raw.length, textLength); i++) {
            b.addIds(raw[i]);
        }
        for (int id : padded) {
            b.addPaddedIds(id);
        }
        return b.build();
    }

    /** Decodes grids to PNG images with the dVAE decoder, in order. */
    public static List<Image> decode(StageModel model, List<int[]> grids) {
        List<Image> out = new ArrayList<>(grids.size());
        for (RgbImage img : model.pipeline().decode(grids, dalle.core.pipeline.Pipeline.Progress.NONE)) {
            out.add(Pngs.image(img));
        }
        return out;
    }

    /** Scores images against padded text tokens with the reranker. */
    public static float[] score(StageModel model, int[] text, List<RgbImage> images) {
        return model.pipeline().score(text, images, dalle.core.pipeline.Pipeline.Progress.NONE);
    }
}
