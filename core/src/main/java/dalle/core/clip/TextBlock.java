package dalle.core.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import dalle.core.nn.LayerNorm;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.SplittableRandom;

/**
 * One pre-LN transformer block of the reranker's text tower:
 * {@code x = x + attn(ln1(x)); x = x + mlp(ln2(x))}, with a GELU MLP {@code MLP_RATIO} times wider.
 *
 * <p>Shapes: B captions, L positions, C width.
 */
final class TextBlock extends Module {

    private final LayerNorm ln1;
    private final PaddedSelfAttention attn;
    private final LayerNorm ln2;
    private final Linear fc;
    private final Linear proj;

    TextBlock(NDManager manager, SplittableRandom rng, int width, int heads, int layers) {
        int hidden = ClipConfig.MLP_RATIO * width;
        ln1 = child("ln1", new LayerNorm(manager, width));
        attn = child("attn", new PaddedSelfAttention(manager, rng, width, heads, layers));
        ln2 = child("ln2", new LayerNorm(manager, width));
        fc = child("fc", new Linear(manager, rng, width, hidden, true));
        proj = child("proj", new Linear(manager, rng, hidden, width, true,
                Parameter.Kind.WEIGHT, 0.02f / (float) Math.sqrt(2.0 * layers)));
    }

    /** (B, L, C) with a (B, 1, 1, L) key bias -> (B, L, C). */
    NDArray forward(NDArray x, NDArray keyBias) {
        x = x.add(attn.forward(ln1.forward(x), keyBias));
        return x.add(proj.forward(Activation.gelu(fc.forward(ln2.forward(x)))));
    }
}
