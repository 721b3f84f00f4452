package dalle.core.transformer;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.SplittableRandom;

/**
 * Multi-head self-attention over text and image together, made sparse by an additive mask
 * (see {@link AttentionMask}).
 *
 * <p>Shapes: B batch, n query positions, S key positions (S = n without a cache, cache length + n
 * with one), C width, H heads, D = C/H.
 * <pre>
 *   x (B, n, C) -> qkv (B, n, 3C) -> q, k, v (B, H, n, D) -> scores (B, H, n, S) + mask (n, S)
 *   -> softmax · v (B, H, n, D) -> (B, n, C) -> output projection (B, n, C)
 * </pre>
 */
public final class SparseAttention extends Module {

    private final Linear qkv;
    private final Linear proj;
    private final int heads;
    private final int headWidth;
    private final float scale;

    /**
     * @param outStd init std of the output projection (GPT-2 scales it down with depth)
     */
    public SparseAttention(NDManager manager, SplittableRandom rng, int width, int heads, float outStd) {
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        this.heads = heads;
        this.headWidth = width / heads;
        this.scale = (float) (1.0 / Math.sqrt(headWidth));
        qkv = child("qkv", new Linear(manager, rng, width, 3 * width, true));
        proj = child("proj", new Linear(manager, rng, width, width, true, Parameter.Kind.WEIGHT, outStd));
    }

    Linear qkv() {
        return qkv;
    }

    Linear proj() {
        return proj;
    }

    int heads() {
        return heads;
    }

    int headWidth() {
        return headWidth;
    }

    /** 1/√D, the factor the scores are multiplied by. */
    float scale() {
        return scale;
    }

    /** Full-sequence attention: x (B, T, C), additive mask (T, T) -> (B, T, C). */
    public NDArray forward(NDArray x, NDArray mask) {
        return forward(x, mask, null, 0);
    }

    /**
     * Attends the n positions of {@code x} to themselves and, with a cache, to the cached ones.
     *
     * @param x     (B, n, C)
     * @param mask  additive (n, S): 0 where attending is allowed, −∞ elsewhere
     * @param cache decoding state to read and extend, or {@code null} for a full-sequence pass
     * @param layer this block's index in the cache
     * @return (B, n, C)
     */
    public NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        NDArray fused = qkv.forward(x)                       // (B, n, C) -> (B, n, 3C)
                .reshape(b, n, 3L * heads, headWidth)          // (B, n, 3C) -> (B, n, 3H, D)
                .transpose(0, 2, 1, 3);                        // (B, n, 3H, D) -> (B, 3H, n, D)
        NDList parts = fused.split(3, 1);                      // 3 × (B, H, n, D)
        NDArray q = parts.get(0);
        NDArray kT = parts.get(1).transpose(0, 1, 3, 2);       // (B, H, n, D) -> (B, H, D, n)
        NDArray v = parts.get(2);
        if (cache != null) {
            NDArray[] kv = cache.append(layer, kT, v);         // (B, H, D, S), (B, H, S, D)
            kT = kv[0];
            v = kv[1];
        }
        // scaled through Scalars: muli(float) would leave autograd a constant in JVM-freed memory
        NDArray scores = Scalars.mul(q.matMul(kT), scale)      // (B, H, n, D) x (B, H, D, S) -> (B, H, n, S)
                .addi(mask);
        NDArray y = scores.softmax(-1).matMul(v)               // (B, H, n, S) x (B, H, S, D) -> (B, H, n, D)
                .transpose(0, 2, 1, 3)                         // (B, H, n, D) -> (B, n, H, D)
                .reshape(b, n, (long) heads * headWidth);      // (B, n, H, D) -> (B, n, C)
        return proj.forward(y);
    }
}
