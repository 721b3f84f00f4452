package dalle.core.dvae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.nn.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One group of {@link BottleneckBlock}s named {@code block1..blockN}, all at the group's output
 * width; the first block maps from the previous width. Shapes: {@code (B, in, H, W) -> (B, out, H, W)};
 * the pooling or upsampling between groups belongs to the encoder or decoder.
 */
final class BlockGroup extends Module {

    private final List<BottleneckBlock> blocks = new ArrayList<>();

    BlockGroup(NDManager manager, SplittableRandom rng, int in, int out, int count, int[] kernels, float postGain) {
        for (int i = 0; i < count; i++) {
            blocks.add(child("block" + (i + 1),
                    new BottleneckBlock(manager, rng, i == 0 ? in : out, out, kernels, postGain)));
        }
    }

    /** (B, in, H, W) -> (B, out, H, W). */
    NDArray forward(NDArray x) {
        for (BottleneckBlock block : blocks) {
            x = block.forward(x);
        }
        return x;
    }
}
