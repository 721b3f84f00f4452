package dalle.core.dvae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import dalle.core.nn.Conv2d;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The dVAE decoder: a (relaxed) one-hot grid over the K codes to the logit-Laplace statistics
 * of every pixel-channel.
 *
 * <p>Shape legend: B batch, G = gridSize, S = 8G = imageSize, w = width, K = codebookSize,
 * n = decoderInitWidth.
 * <pre>
 *   input   1×1 conv               (B, K, G, G)     -> (B, n, G, G)
 *   group1  blocks at 8w, up ×2    (B, n, G, G)     -> (B, 8w, 2G, 2G)
 *   group2  blocks at 4w, up ×2                     -> (B, 4w, S/2, S/2)
 *   group3  blocks at 2w, up ×2                     -> (B, 2w, S, S)
 *   group4  blocks at w                             -> (B, w, S, S)
 *   output  ReLU, 1×1 conv                          -> (B, 6, S, S): μ for R,G,B then ln b for R,G,B
 * </pre>
 * With a finer grid (S = 4G or 2G) the first upsamplings are skipped: groups 1 and 2 (or 1 to 3) run at G.
 */
public final class DvaeDecoder extends Module {

    private final Conv2d input;
    private final List<BlockGroup> groups = new ArrayList<>();
    private final Conv2d output;
    private final DvaeConfig config;

    public DvaeDecoder(NDManager manager, SplittableRandom rng, DvaeConfig config) {
        this.config = config;
        input = child("input", BottleneckBlock.conv(manager, rng, config.codebookSize(), config.decoderInitWidth(), 1));
        int in = config.decoderInitWidth();
        for (int g = 0; g < DvaeConfig.GROUPS; g++) {
            int out = config.groupWidth(DvaeConfig.GROUPS - 1 - g);
            groups.add(child("group" + (g + 1), new BlockGroup(manager, rng, in, out, config.blocksPerGroup(),
                    BottleneckBlock.DECODER_KERNELS, config.postGain())));
            in = out;
        }
        output = child("output", BottleneckBlock.conv(manager, rng, in, 2 * DvaeConfig.CHANNELS, 1));
    }

    /** The bias of the output 1×1 conv: 6 values, μ of R, G, B then ln b of R, G, B. */
    Parameter outputBias() {
        return output.parameters().get("bias");
    }

    /**
     * @param codes (B, K, G, G) one-hot or relaxed (Gumbel-softmax) code distributions
     * @return (B, 6, S, S) statistics: channels 0–2 are μ (in logit space), 3–5 are ln b
     */
    public NDArray forward(NDArray codes) {
        NDArray x = input.forward(codes);
        for (int g = 0; g < groups.size(); g++) {
            x = groups.get(g).forward(x);
            if (g < groups.size() - 1 && config.upsamplesAfter(g)) {
                // nearest ×2: (B, C, H, W) -> (B, C, 2H, W) -> (B, C, 2H, 2W)
                x = x.repeat(2, 2).repeat(3, 2);
            }
        }
        return output.forward(Activation.relu(x));
    }
}
