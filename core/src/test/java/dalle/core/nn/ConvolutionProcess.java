package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * A process that convolves the way decoding does (batch 1, small images: libtorch asks NNPACK each time), then makes
 * libtorch log one other warning. Prints what {@link LibtorchSetup} decided. Run by {@link LibtorchSetupTest}.
 */
public final class ConvolutionProcess {

    private ConvolutionProcess() {}

    /** {@code args[0]}: how many convolutions. */
    public static void main(String[] args) {
        int convolutions = Integer.parseInt(args[0]);
        SplittableRandom rng = new SplittableRandom(7);
        try (NDManager manager = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(manager, rng, 3, 4, 3);
            for (int i = 0; i < convolutions; i++) {
                try (NDManager step = manager.newSubManager()) {
                    // (1, 3, 8, 8) -> (1, 4, 8, 8)
                    conv.forward(Module.normal(step, rng, 1f, new Shape(1, 3, 8, 8)));
                }
            }
            System.out.println("nnpack " + LibtorchSetup.apply());
            // libtorch deprecates a uint8 condition in where() with a warning: any native warning will do
            NDArray condition = manager.create(new byte[] {1, 0, 1}).toType(DataType.UINT8, false);
            NDArray a = manager.ones(new Shape(3));
            NDArrays.where(condition, a, a.neg());
            System.out.println("done");
        }
    }
}
