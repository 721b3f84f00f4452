package dalle.core.dvae;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import dalle.core.nn.Conv2d;
import dalle.core.nn.Module;
import java.util.SplittableRandom;

/**
 * The dVAE's bottleneck resblock (openai/DALL-E {@code EncoderBlock}/{@code DecoderBlock}):
 *
 * <pre>
 *   x ↦ id(x) + postGain · conv4(relu(conv3(relu(conv2(relu(conv1(relu(x))))))))
 * </pre>
 *
 * with hidden width {@code out / 4}, {@code id} a 1×1 conv when {@code in != out} (the identity
 * otherwise) and {@code postGain = 1 / (resblocks in the network)²}. Kernel sizes are
 * {@code 3, 3, 3, 1} in the encoder and {@code 1, 3, 3, 3} in the decoder.
 *
 * <p>Shapes: {@code (B, in, H, W) -> (B, out, H, W)}. Convs are initialised as in the release,
 * N(0, 1/fan_in), biases zero.
 */
final class BottleneckBlock extends Module {

    /** Kernel sizes of the encoder's residual branch. */
    static final int[] ENCODER_KERNELS = {3, 3, 3, 1};
    /** Kernel sizes of the decoder's residual branch. */
    static final int[] DECODER_KERNELS = {1, 3, 3, 3};

    /** Our {@link Conv2d} draws with std {@code gain · sqrt(2 / fan_in)}; the release uses {@code sqrt(1 / fan_in)}. */
    static final float RELEASE_INIT_GAIN = (float) Math.sqrt(0.5);

    private final Conv2d idPath;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Conv2d conv3;
    private final Conv2d conv4;
    private final float postGain;

    BottleneckBlock(NDManager manager, SplittableRandom rng, int in, int out, int[] kernels, float postGain) {
        if (out % 4 != 0) {
            throw new IllegalArgumentException("resblock output width " + out + " is not a multiple of 4");
        }
        int hid = out / 4;
        this.postGain = postGain;
        idPath = in == out ? null : child("idPath", conv(manager, rng, in, out, 1));
        conv1 = child("conv1", conv(manager, rng, in, hid, kernels[0]));
        conv2 = child("conv2", conv(manager, rng, hid, hid, kernels[1]));
        conv3 = child("conv3", conv(manager, rng, hid, hid, kernels[2]));
        conv4 = child("conv4", conv(manager, rng, hid, out, kernels[3]));
    }

    static Conv2d conv(NDManager manager, SplittableRandom rng, int in, int out, int kernel) {
        return new Conv2d(manager, rng, in, out, kernel, RELEASE_INIT_GAIN);
    }

    /** (B, in, H, W) -> (B, out, H, W). */
    NDArray forward(NDArray x) {
        NDArray h = conv1.forward(Activation.relu(x));
        h = conv2.forward(Activation.relu(h));
        h = conv3.forward(Activation.relu(h));
        h = conv4.forward(Activation.relu(h));
        NDArray id = idPath == null ? x : idPath.forward(x);
        return id.add(Scalars.mul(h, postGain));
    }
}
