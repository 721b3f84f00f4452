package dalle.core.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import dalle.core.nn.Conv2d;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The reranker's image tower: pixels in [0, 1] normalised to {@code (x − 0.5)/0.25}, then
 * {@link ClipConfig#IMAGE_STAGES} stages of 3×3 convolution, ReLU and 2×2 max-pool (channels
 * w, 2w, 4w, 8w), global average pooling or, with {@link ClipConfig#gridPooling}, the flattened
 * last grid, and a projection to the shared space, L2-normalised.
 *
 * <p>Shapes: B images, S imageSize, w imageWidth, F = 8w features, G = S/16 last grid, E embedDim.
 */
public final class ImageEncoder extends Module {

    /** Pixel mean and spread used to centre [0, 1] inputs. */
    public static final float PIXEL_MEAN = 0.5f;
    public static final float PIXEL_STD = 0.25f;

    private final ClipConfig config;
    private final List<Conv2d> stages = new ArrayList<>();
    private final Linear projection;

    public ImageEncoder(NDManager manager, SplittableRandom rng, ClipConfig config) {
        this.config = config;
        int in = 3;
        for (int s = 0; s < ClipConfig.IMAGE_STAGES; s++) {
            int out = config.imageWidth() << s;
            stages.add(child("conv" + s, new Conv2d(manager, rng, in, out, 3)));
            in = out;
        }
        int pooled = config.imageFeaturesPooled();
        projection = child("projection", new Linear(manager, rng, pooled, config.embedDim(), false,
                Parameter.Kind.WEIGHT, (float) (1.0 / Math.sqrt(pooled))));
    }

    /**
     * Embeds images.
     *
     * @param images01 (B, 3, S, S) RGB in [0, 1], floating point
     * @return (B, E) unit-norm embeddings, on the manager of {@code images01}
     * @throws IllegalArgumentException when the shape is not (B, 3, imageSize, imageSize)
     */
    public NDArray forward(NDArray images01) {
        return Embeddings.l2Normalise(projection.forward(features(images01)));     // (B, E)
    }

    /**
     * {@link #forward} with the projection computed one image per matrix product (a batched product of
     * B (1 × F) · (F × E) products): libtorch's matrix product gives a row other bits depending on how
     * many rows share it and where, this one does not. For scoring, where an image's score must not
     * depend on the batch it came in; training uses {@link #forward}.
     */
    public NDArray forwardRowwise(NDArray images01) {
        NDArray pooled = features(images01);                                         // (B, F)
        long b = pooled.getShape().get(0);
        NDArray w = projection.weight().array();                                     // (E, F)
        NDArray t = w.transpose();                                                   // (F, E) view, on the caller's manager:
        t.attach(pooled.getManager());                                               // a result lands on its operand's manager
        NDArray wT = t.expandDims(0)
                .broadcast(new Shape(b, w.getShape().get(1), w.getShape().get(0)));   // (F, E) -> (B, F, E), no copy
        NDArray projected = pooled.expandDims(1).matMul(wT).squeeze(1);              // (B, 1, F)·(B, F, E) -> (B, E)
        return Embeddings.l2Normalise(projected);
    }

    /** (B, 3, S, S) -> (B, F) or (B, F·G²): the convolution stages and the pooling. */
    private NDArray features(NDArray images01) {
        Shape s = images01.getShape();
        int size = config.imageSize();
        if (s.dimension() != 4 || s.get(1) != 3 || s.get(2) != size || s.get(3) != size) {
            throw new IllegalArgumentException("images must be (B, 3, " + size + ", " + size + "), got " + s);
        }
        NDArray x = images01.sub(PIXEL_MEAN).div(PIXEL_STD);                        // (B, 3, S, S)
        for (Conv2d conv : stages) {
            // (B, c, h, h) -> (B, 2c, h/2, h/2) (the first stage: 3 -> w channels)
            x = Pool.maxPool2d(Activation.relu(conv.forward(x)),
                    new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        }
        Shape g = x.getShape();
        return config.gridPooling()
                ? x.reshape(g.get(0), -1)                                           // (B, F, G, G) -> (B, F·G²)
                : x.reshape(g.get(0), g.get(1), -1).mean(new int[] {2});            // (B, F, G, G) -> (B, F)
    }
}
