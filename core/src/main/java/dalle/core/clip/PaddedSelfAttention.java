package dalle.core.clip;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.SplittableRandom;

/**
 * Bidirectional multi-head self-attention whose keys skip pad positions, for the reranker's
 * text tower. Every position may attend to every non-pad position (no causal mask: a caption is
 * read whole). Queries at pad positions still get an output, which later layers and the pooling
 * ignore.
 *
 * <p>Shapes: B captions, L positions, C width, H heads, D = C/H.
 */
final class PaddedSelfAttention extends Module {

    /**
     * Added to the scores of pad keys. Finite, so a caption made only of pads gives a uniform
     * average rather than NaN; far below any real score, so exp() of it is exactly 0 in fp32;
     * and representable in fp16.
     */
    static final float MASKED = -30_000f;

    private final Linear qkv;
    private final Linear proj;
    private final int heads;

    PaddedSelfAttention(NDManager manager, SplittableRandom rng, int width, int heads, int layers) {
        this.heads = heads;
        qkv = child("qkv", new Linear(manager, rng, width, 3 * width, true));
        // GPT-2's scaled init of the residual projection keeps the stream's variance flat with depth
        proj = child("proj", new Linear(manager, rng, width, width, true,
                Parameter.Kind.WEIGHT, 0.02f / (float) Math.sqrt(2.0 * layers)));
    }

    /**
     * @param x       (B, L, C) activations
     * @param keyBias (B, 1, 1, L) additive bias: 0 at real tokens, {@link #MASKED} at pads, x's dtype
     * @return (B, L, C)
     */
    NDArray forward(NDArray x, NDArray keyBias) {
        Shape s = x.getShape();
        long b = s.get(0);
        long l = s.get(1);
        long c = s.get(2);
        long d = c / heads;
        NDArray qkvAll = qkv.forward(x)                          // (B, L, 3C)
                .reshape(b, l, 3, heads, d)                      // (B, L, 3C) -> (B, L, 3, H, D)
                .transpose(2, 0, 3, 1, 4);                       // (B, L, 3, H, D) -> (3, B, H, L, D)
        NDArray q = qkvAll.get(0);                               // (B, H, L, D)
        NDArray k = qkvAll.get(1);
        NDArray v = qkvAll.get(2);
        NDArray scores = Scalars.mul(q.matMul(k.transpose(0, 1, 3, 2)), (float) (1 / Math.sqrt(d)))
                .add(keyBias);                                   // (B, H, L, D)·(B, H, D, L) -> (B, H, L, L), + (B, 1, 1, L)
        NDArray y = scores.softmax(-1).matMul(v)                 // (B, H, L, L)·(B, H, L, D) -> (B, H, L, D)
                .transpose(0, 2, 1, 3)                           // (B, H, L, D) -> (B, L, H, D)
                .reshape(b, l, c);                               // (B, L, H, D) -> (B, L, C)
        return proj.forward(y);
    }
}
