package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.nn.LayerNorm;
import dalle.core.nn.Module;
import java.util.SplittableRandom;

/**
 * One pre-LN resblock of the prior: {@code x = x + attn(ln1(x)); x = x + mlp(ln2(x))}.
 *
 * <p>The two residual branches are exposed separately ({@link #attentionBranch},
 * {@link #mlpBranch}) so that a trainer can cut the graph around each branch, e.g. for the
 * paper's per-resblock gradient scaling. Shapes: x (B, n, C); mask (n, S), see {@link SparseAttention}.
 */
public final class TransformerBlock extends Module {

    private final LayerNorm ln1;
    private final SparseAttention attn;
    private final LayerNorm ln2;
    private final Mlp mlp;
    private final AttentionMask.Type maskType;

    /**
     * @param maskType the image-to-image pattern this block attends with
     * @param outStd   init std of both branches' output projections
     */
    public TransformerBlock(NDManager manager, SplittableRandom rng, PriorConfig config,
                            AttentionMask.Type maskType, float outStd) {
        this.maskType = maskType;
        ln1 = child("ln1", new LayerNorm(manager, config.width()));
        attn = child("attn", new SparseAttention(manager, rng, config.width(), config.heads(), outStd));
        ln2 = child("ln2", new LayerNorm(manager, config.width()));
        mlp = child("mlp", new Mlp(manager, rng, config.width(), config.mlpRatio(), outStd));
    }

    LayerNorm ln1() {
        return ln1;
    }

    SparseAttention attention() {
        return attn;
    }

    LayerNorm ln2() {
        return ln2;
    }

    Mlp mlp() {
        return mlp;
    }

    /** The mask pattern of this block. */
    public AttentionMask.Type maskType() {
        return maskType;
    }

    /** Full-sequence pass, x (B, T, C), mask (T, T) -> (B, T, C). */
    public NDArray forward(NDArray x, NDArray mask) {
        return forward(x, mask, null, 0);
    }

    /** (B, n, C) -> (B, n, C): both residual updates; {@code cache} may be null (then {@code layer} is unused). */
    public NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer) {
        x = x.add(attentionBranch(x, mask, cache, layer));
        return x.add(mlpBranch(x));
    }

    /** attn(ln1(x)), the first residual branch: (B, n, C) -> (B, n, C). */
    public NDArray attentionBranch(NDArray x, NDArray mask, KvCache cache, int layer) {
        return attn.forward(ln1.forward(x), mask, cache, layer);
    }

    /** mlp(ln2(x)), the second residual branch: (B, n, C) -> (B, n, C). */
    public NDArray mlpBranch(NDArray x) {
        return mlp.forward(ln2.forward(x));
    }
}
