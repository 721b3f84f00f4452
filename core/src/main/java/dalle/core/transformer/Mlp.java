package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.SplittableRandom;

/** The feed-forward branch of a block: (B, n, C) -> GELU(x·W1 + b1) (B, n, rC) -> ·W2 + b2 (B, n, C). */
public final class Mlp extends Module {

    private final Linear fc;
    private final Linear proj;

    /**
     * @param ratio  hidden width as a multiple of {@code width}
     * @param outStd init std of the output projection (GPT-2 scales it down with depth)
     */
    public Mlp(NDManager manager, SplittableRandom rng, int width, int ratio, float outStd) {
        fc = child("fc", new Linear(manager, rng, width, ratio * width, true));
        proj = child("proj", new Linear(manager, rng, ratio * width, width, true, Parameter.Kind.WEIGHT, outStd));
    }

    /** (B, n, C) -> (B, n, C). */
    public NDArray forward(NDArray x) {
        return proj.forward(Activation.gelu(fc.forward(x)));
    }
}
