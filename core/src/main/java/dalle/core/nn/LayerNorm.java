package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Layer normalisation over the last axis with a learned gain and bias (kept in fp32). */
public final class LayerNorm extends Module {

    private final Parameter gain;
    private final Parameter bias;
    private final int dim;

    public LayerNorm(NDManager manager, int dim) {
        this.dim = dim;
        gain = parameter("gain", Parameter.Kind.GAIN, manager.ones(new Shape(dim)));
        bias = parameter("bias", Parameter.Kind.BIAS, manager.zeros(new Shape(dim)));
    }

    /** (..., C) -> (..., C). */
    public NDArray forward(NDArray x) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(dim), gain.array(), bias.array(), 1e-5f)
                .singletonOrThrow();
    }
}
