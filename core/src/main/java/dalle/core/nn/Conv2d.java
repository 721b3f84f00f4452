package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.SplittableRandom;

/**
 * A stride-1, "same"-padded 2-D convolution over NCHW; kernel (out, in, k, k) as in PyTorch.
 *
 * <p><b>Why the output channels are padded while training.</b> libtorch 2.7.1 runs CPU convolutions
 * through oneDNN 3.7.1, which on AVX-512 machines stores channels in blocks of 16. When a convolution
 * has an output-channel count that is not a multiple of 16 (the dVAE's bottleneck convs have
 * {@code out / 4} = 8 channels at {@code tiny}), its AVX-512 backward-data kernel
 * ({@code jit:avx512_core}, {@code aBcd16b}) reads the padding of the blocked buffers uninitialised:
 * the gradient with respect to the input is different on every call and, whenever the leftover
 * bytes happen to hold a NaN or an infinity, non-finite. Measured: an 8 → 8 3×3 conv at batch 32,
 * 64×64, gave a non-finite input gradient in 30 of 200 identical calls and a different one in 153
 * (one thread: 3 and 199); with {@code ONEDNN_MAX_CPU_ISA=AVX2} (blocks of 8, no padding), none.
 * The forward pass and the weight gradient are unaffected.
 *
 * <p>So when autograd will differentiate through the convolution on the CPU, it runs with its filters
 * padded by zero filters to a multiple of {@value #CHANNEL_BLOCK} and the extra output channels are
 * sliced off: the backward-data kernel then has no padding to read, and the outputs are the same
 * values, bit for bit, as the unpadded convolution's (checked in {@code Conv2dTest}). Inference (no
 * array requires a gradient) runs the plain convolution.
 */
public final class Conv2d extends Module {

    /** oneDNN's channel block on AVX-512 (a multiple of AVX2's 8). */
    static final int CHANNEL_BLOCK = 16;

    private final Parameter weight;
    private final Parameter bias;
    private final int kernel;
    private final int out;

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
        LibtorchSetup.apply(); // before the first convolution of the process (NNPACK's warning)
        this.kernel = kernel;
        this.out = out;
        float std = gain * (float) Math.sqrt(2.0 / ((double) in * kernel * kernel));
        weight = parameter("weight", Parameter.Kind.WEIGHT, normal(manager, rng, std, new Shape(out, in, kernel, kernel)));
        bias = parameter("bias", Parameter.Kind.BIAS, manager.zeros(new Shape(out)));
    }

    /** (B, in, H, W) -> (B, out, H, W). */
    public NDArray forward(NDArray x) {
        NDArray w = weight.array();
        NDArray b = bias.array();
        int padded = (out + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK * CHANNEL_BLOCK;
        if (padded == out || x.getDevice().isGpu() || !(recordsGradient(x) || recordsGradient(w) || recordsGradient(b))) {
            return conv(x, w, b);
        }
        Shape wShape = w.getShape();
        // (out, in, k, k) -> (padded, in, k, k) and (out) -> (padded): zero filters after the real ones
        NDArray wPadded = w.concat(x.getManager().zeros(new Shape(padded - out, wShape.get(1), kernel, kernel),
                w.getDataType()), 0);
        NDArray bPadded = b.concat(x.getManager().zeros(new Shape(padded - out), b.getDataType()), 0);
        // concat puts its result on the parameters' manager, which lives as long as the model: these belong to the step
        wPadded.attach(x.getManager());
        bPadded.attach(x.getManager());
        // (B, padded, H, W) -> (B, out, H, W)
        return conv(x, wPadded, bPadded).get(":, 0:" + out);
    }

    private NDArray conv(NDArray x, NDArray w, NDArray b) {
        int pad = kernel / 2;
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b,
                new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1).singletonOrThrow();
    }

    /** Whether autograd records operations on {@code a} (it requires a gradient or was computed from one that does). */
    static boolean recordsGradient(NDArray a) {
        return a instanceof PtNDArray pt && JniUtils.requiresGrad(pt);
    }
}
