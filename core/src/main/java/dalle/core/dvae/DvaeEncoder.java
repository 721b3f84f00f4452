package dalle.core.dvae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import dalle.core.nn.Conv2d;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The dVAE encoder: mapped pixels to per-position logits over the K codes.
 *
 * <p>Shape legend: B batch, S = imageSize, G = gridSize = S/8, w = width, K = codebookSize.
 * <pre>
 *   input   7×7 conv           (B, 3, S, S)     -> (B, w, S, S)
 *   group1  blocks at w, pool  (B, w, S, S)     -> (B, w, S/2, S/2)
 *   group2  blocks at 2w, pool                  -> (B, 2w, S/4, S/4)
 *   group3  blocks at 4w, pool                  -> (B, 4w, G, G)
 *   group4  blocks at 8w                        -> (B, 8w, G, G)
 *   output  ReLU, 1×1 conv                      -> (B, K, G, G), fp32
 * </pre>
 * With a finer grid (S = 4G or 2G) the last poolings are skipped: groups 3 and 4 (or 2 to 4) run at G.
 */
public final class DvaeEncoder extends Module {

    private final Conv2d input;
    private final List<BlockGroup> groups = new ArrayList<>();
    private final Conv2d output;
    private final DvaeConfig config;

    public DvaeEncoder(NDManager manager, SplittableRandom rng, DvaeConfig config) {
        this.config = config;
        input = child("input", BottleneckBlock.conv(manager, rng, DvaeConfig.CHANNELS, config.width(), 7));
        int in = config.width();
        for (int g = 0; g < DvaeConfig.GROUPS; g++) {
            int out = config.groupWidth(g);
            groups.add(child("group" + (g + 1), new BlockGroup(manager, rng, in, out, config.blocksPerGroup(),
                    BottleneckBlock.ENCODER_KERNELS, config.postGain())));
            in = out;
        }
        output = child("output", BottleneckBlock.conv(manager, rng, in, config.codebookSize(), 1));
    }

    /** The weight of the output 1×1 conv that produces the K logits. */
    Parameter outputWeight() {
        return output.parameters().get("weight");
    }

    /**
     * Logits of the posterior over codes.
     *
     * @param mapped (B, 3, S, S) pixels already mapped into (ε, 1 − ε) (see {@link LogitLaplace#mapPixels})
     * @return (B, K, G, G) logits in fp32 (the paper keeps them fp32 whatever the compute type)
     */
    public NDArray forward(NDArray mapped) {
        NDArray x = input.forward(mapped);
        for (int g = 0; g < groups.size(); g++) {
            x = groups.get(g).forward(x);
            if (g < groups.size() - 1 && config.poolsAfter(g)) {
                // (B, C, H, W) -> (B, C, H/2, W/2)
                x = Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
            }
        }
        return output.forward(Activation.relu(x)).toType(DataType.FLOAT32, false);
    }
}
