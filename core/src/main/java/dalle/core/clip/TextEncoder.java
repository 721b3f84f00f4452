package dalle.core.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Embedding;
import dalle.core.nn.LayerNorm;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The reranker's text tower: token + position embeddings, pre-LN transformer blocks with
 * bidirectional attention that ignores pad positions, a final layer norm, the mean over non-pad
 * positions, and a projection to the shared space, L2-normalised.
 *
 * <p>Pad positions never influence the result: they are masked out of every attention's keys
 * and out of the pooling, so a caption padded to any length gives the same embedding.
 *
 * <p>Shapes: B captions, L positions (≤ textLength), C textWidth, E embedDim.
 */
public final class TextEncoder extends Module {

    private final ClipConfig config;
    private final Embedding tokens;
    private final Embedding positions;
    private final List<TextBlock> blocks = new ArrayList<>();
    private final LayerNorm lnFinal;
    private final Linear projection;

    public TextEncoder(NDManager manager, SplittableRandom rng, ClipConfig config) {
        this.config = config;
        tokens = child("tokens", new Embedding(manager, rng, config.textVocab(), config.textWidth()));
        positions = child("positions", new Embedding(manager, rng, config.textLength(), config.textWidth()));
        for (int i = 0; i < config.textLayers(); i++) {
            blocks.add(child("block" + i, new TextBlock(manager, rng, config.textWidth(), config.textHeads(),
                    config.textLayers())));
        }
        lnFinal = child("lnFinal", new LayerNorm(manager, config.textWidth()));
        projection = child("projection", new Linear(manager, rng, config.textWidth(), config.embedDim(), false,
                Parameter.Kind.WEIGHT, (float) (1.0 / Math.sqrt(config.textWidth()))));
    }

    /**
     * Embeds captions. A caption with no non-pad token gets the zero vector.
     *
     * @param ids (B, L) integer token ids in {@code [0, textVocab)}, 1 ≤ L ≤ textLength, pads anywhere
     * @return (B, E) unit-norm embeddings, on the manager of {@code ids}
     * @throws IllegalArgumentException on a wrong rank, length or an id outside the vocabulary
     */
    public NDArray forward(NDArray ids) {
        Shape s = ids.getShape();
        if (s.dimension() != 2 || s.get(1) < 1 || s.get(1) > config.textLength()) {
            throw new IllegalArgumentException("text ids must be (B, L) with 1 <= L <= " + config.textLength()
                    + ", got " + s);
        }
        if (!ids.getDataType().isInteger()) {
            throw new IllegalArgumentException("text ids must be integers, got " + ids.getDataType());
        }
        checkVocabulary(ids);
        long b = s.get(0);
        long l = s.get(1);
        NDManager m = ids.getManager();
        NDArray positionIds = m.arange(0, (int) l, 1, DataType.INT64);                   // (L)
        NDArray x = tokens.forward(ids).add(positions.forward(positionIds));             // (B, L, C) + (L, C)
        NDArray keep = ids.neq(config.padTokenId()).toType(x.getDataType(), false);      // (B, L), 1 = real token
        NDArray keyBias = keep.sub(1).mul(-PaddedSelfAttention.MASKED)                   // 0 real, MASKED pad
                .reshape(b, 1, 1, l);                                                    // (B, L) -> (B, 1, 1, L)
        for (TextBlock block : blocks) {
            x = block.forward(x, keyBias);
        }
        x = lnFinal.forward(x);
        NDArray count = keep.sum(new int[] {1}, true).maximum(1f);                       // (B, 1)
        NDArray pooled = x.mul(keep.expandDims(2))                                       // (B, L, C) · (B, L, 1)
                .sum(new int[] {1})                                                      // (B, L, C) -> (B, C)
                .div(count);
        return Embeddings.l2Normalise(projection.forward(pooled));                       // (B, E)
    }

    private void checkVocabulary(NDArray ids) {
        long min = ids.min().toType(DataType.INT64, false).getLong();
        long max = ids.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= config.textVocab()) {
            throw new IllegalArgumentException("text ids must be in [0, " + config.textVocab() + "), got values in ["
                    + min + ", " + max + "]");
        }
    }
}
