package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.SplittableRandom;

/** A stride-1, "same"-padded 2-D convolution over NCHW; kernel (out, in, k, k) as in PyTorch. */
public final class Conv2d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int kernel;

    public Conv2d(NDManager manager, SplittableRandom rng, int in, int out, int kernel) {
        this(manager, rng, in, out, kernel, 1f);
    }

    /**
     * @param gain multiplies the He-normal init std (a residual branch's last conv may start smaller)
     */
    public Conv2d(NDManager manager, SplittableRandom rng, int in, int out, int kernel, float gain) {
        if (in <= 0 || out <= 0 || kernel <= 0 || kernel % 2 == 0) {
            throw new IllegalArgumentException(
                    "Conv2d needs positive sizes and an odd kernel, got in=" + in + " out=" + out + " kernel=" + kernel);
        }
        this.kernel = kernel;
        float std = gain * (float) Math.sqrt(2.0 / ((double) in * kernel * kernel));
        weight = parameter("weight", Parameter.Kind.WEIGHT, normal(manager, rng, std, new Shape(out, in, kernel, kernel)));
        bias = parameter("bias", Parameter.Kind.BIAS, manager.zeros(new Shape(out)));
    }

    /** (B, in, H, W) -> (B, out, H, W). */
    public NDArray forward(NDArray x) {
        int pad = kernel / 2;
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight.array(), bias.array(),
                new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1).singletonOrThrow();
    }
}
