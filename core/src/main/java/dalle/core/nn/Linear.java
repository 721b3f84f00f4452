package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** y = x·Wᵀ + b over the last axis; W is (out, in) as in PyTorch, so checkpoints interoperate. */
public final class Linear extends Module {

    private final Parameter weight;
    private final Parameter bias;

    public Linear(NDManager manager, SplittableRandom rng, int in, int out, boolean withBias) {
        this(manager, rng, in, out, withBias, Parameter.Kind.WEIGHT, 0.02f);
    }

    public Linear(NDManager manager, SplittableRandom rng, int in, int out, boolean withBias,
                  Parameter.Kind kind, float initStd) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Linear needs positive sizes, got in=" + in + " out=" + out);
        }
        weight = parameter("weight", kind, normal(manager, rng, initStd, new Shape(out, in)));
        bias = withBias ? parameter("bias", Parameter.Kind.BIAS, manager.zeros(new Shape(out))) : null;
    }

    /** (..., in) -> (..., out). */
    public NDArray forward(NDArray x) {
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight.array()).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight.array(), bias.array()).singletonOrThrow();
    }

    public Parameter weight() {
        return weight;
    }
}
