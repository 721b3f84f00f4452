package dalle.core.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import dalle.core.nn.Scalars;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The reranker: a small CLIP (Radford et al. 2021). Captions and images are embedded on a shared
 * unit sphere; a caption–image pair scores {@code scale · cos(text, image)}, where the scale is a
 * learned temperature {@code exp(logScale)}, initialised to 1/0.07 and capped at 100 as in CLIP.
 * DALL·E samples N candidates per caption and keeps the best-scoring ones.
 *
 * <p>Training minimises the symmetric InfoNCE loss of {@link #loss}: each caption of a batch must
 * pick its own image among the batch's images, and each image its own caption.
 *
 * <p>Checkpoint keys: {@code text.*}, {@code image.*}, {@code logScale}.
 *
 * <p>Shapes: B pairs (or Bt captions and Bi images), L ≤ textLength, S imageSize, E embedDim.
 */
public final class ContrastiveScorer extends Module {

    /** Checkpoint kind written to {@code config.json}. */
    public static final String KIND = "clip";

    /** CLIP's initial temperature 0.07, as a log scale. */
    public static final float INITIAL_LOG_SCALE = (float) Math.log(1 / 0.07);

    /** CLIP's cap on the logit scale (100), as a log scale. */
    public static final float MAX_LOG_SCALE = (float) Math.log(100);

    private final ClipConfig config;
    private final TextEncoder text;
    private final ImageEncoder image;
    private final Parameter logScale;

    /** A freshly initialised scorer; the same seed gives the same weights. */
    public ContrastiveScorer(NDManager manager, ClipConfig config, long seed) {
        this.config = config;
        SplittableRandom rng = new SplittableRandom(seed);
        text = child("text", new TextEncoder(manager, rng.split(), config));
        image = child("image", new ImageEncoder(manager, rng.split(), config));
        logScale = parameter("logScale", Parameter.Kind.GAIN,
                manager.create(new float[] {INITIAL_LOG_SCALE}, new Shape(1)));
    }

    /**
     * Loads a scorer written by {@link #save}; its parameters live on a sub-manager of {@code manager}.
     *
     * @throws CheckpointException naming the file when the config is missing, of another kind or
     *     invalid, or when a tensor is missing, extra or of the wrong shape
     */
    public static ContrastiveScorer load(Path dir, NDManager manager) {
        return Checkpoints.load(dir, KIND, ClipConfig.class, manager, (m, c) -> new ContrastiveScorer(m, c, 0L));
    }

    /** Writes {@code config.json} (kind {@value #KIND}) and {@code model.safetensors} into {@code dir}. */
    public void save(Path dir, SafeTensors.Storage storage) throws IOException {
        Checkpoints.save(dir, KIND, config, this, storage);
    }

    public ClipConfig config() {
        return config;
    }

    /** (B, L) integer ids -> (B, E) unit-norm caption embeddings (pads ignored). */
    public NDArray encodeText(NDArray ids) {
        return text.forward(ids);
    }

    /** (B, 3, S, S) RGB in [0, 1] -> (B, E) unit-norm image embeddings. */
    public NDArray encodeImage(NDArray images01) {
        return image.forward(images01);
    }

    /** The current logit scale {@code min(exp(logScale), 100)}. */
    public float logitScale() {
        return (float) Math.exp(Math.min(logScale.array().getFloat(0), MAX_LOG_SCALE));
    }

    /**
     * Scaled cosine similarities.
     *
     * @param textEmb  (Bt, E) unit-norm caption embeddings
     * @param imageEmb (Bi, E) unit-norm image embeddings
     * @return (Bt, Bi) logits {@code scale · text·imageᵀ}, on the manager of {@code textEmb}
     */
    public NDArray logits(NDArray textEmb, NDArray imageEmb) {
        // start from an array of the caller's manager: DJL puts a result on its first operand's
        // manager, and this call's intermediates must not pile up on the model's
        NDArray scale = textEmb.getManager().zeros(new Shape(1), textEmb.getDataType())
                .add(logScale.array())
                .clip(Float.NEGATIVE_INFINITY, MAX_LOG_SCALE)
                .exp();                                                                    // (1)
        return textEmb.matMul(imageEmb.transpose()).mul(scale);                            // (Bt, E)·(E, Bi) -> (Bt, Bi)
    }

    /**
     * The symmetric InfoNCE loss of CLIP: with logits {@code scale · T·Iᵀ} and the matching pairs on
     * the diagonal, the mean of the cross-entropy over rows (caption → image) and over columns
     * (image → caption).
     *
     * @param ids      (B, L) integer caption ids, row i describing image i
     * @param images01 (B, 3, S, S) RGB in [0, 1]
     * @return scalar loss, on the manager of {@code ids}; ln B for an uninformed model
     */
    public NDArray loss(NDArray ids, NDArray images01) {
        long b = ids.getShape().get(0);
        if (images01.getShape().dimension() < 1 || images01.getShape().get(0) != b) {
            throw new IllegalArgumentException("loss needs as many images as captions: " + b + " captions, images "
                    + images01.getShape());
        }
        NDArray logits = logits(encodeText(ids), encodeImage(images01));                      // (B, B)
        NDArray diagonal = ids.getManager().eye((int) b).toType(logits.getDataType(), false); // (B, B)
        NDArray rows = logits.logSoftmax(1).mul(diagonal).sum().neg();                         // Σ_i −log p(image i | caption i)
        NDArray cols = logits.logSoftmax(0).mul(diagonal).sum().neg();                         // Σ_i −log p(caption i | image i)
        return Scalars.div(rows.add(cols), 2f * b);
    }

    /**
     * Scores candidate images against one caption; higher is a better match.
     *
     * @param captionIds the caption's token ids, 1 to textLength of them, pad-filled or not; at least
     *                   one must differ from the pad id
     * @param images01   (N, 3, S, S) RGB in [0, 1]
     * @return N scores {@code scale · cos(caption, image)}, in [−100, 100]; each image's score is the same, to
     *     the bit, whatever other images share the call (all products are computed one image at a time)
     * @throws IllegalArgumentException on an empty or too long caption, an id outside the vocabulary,
     *     or images of the wrong shape
     */
    public float[] score(int[] captionIds, NDArray images01) {
        if (captionIds.length < 1 || captionIds.length > config.textLength()) {
            throw new IllegalArgumentException("a caption must have 1 to " + config.textLength() + " ids, got "
                    + captionIds.length);
        }
        boolean empty = true;
        for (int id : captionIds) {
            empty &= id == config.padTokenId();
        }
        if (empty) {
            throw new IllegalArgumentException("the caption has no token other than the pad id " + config.padTokenId());
        }
        try (NDManager scope = images01.getManager().newSubManager()) {
            NDArray ids = scope.create(captionIds, new Shape(1, captionIds.length));              // (1, L)
            NDArray images = images01.duplicate();                                               // (N, 3, S, S)
            images.attach(scope);
            // one image per matrix product throughout, so that an image's score does not depend on its batch
            NDArray imageEmb = image.forwardRowwise(images);                                      // (N, E)
            NDArray textEmb = encodeText(ids);                                                   // (1, E)
            long n = imageEmb.getShape().get(0);
            long e = imageEmb.getShape().get(1);
            NDArray scale = imageEmb.getManager().zeros(new Shape(1), imageEmb.getDataType())
                    .add(logScale.array())
                    .clip(Float.NEGATIVE_INFINITY, MAX_LOG_SCALE)
                    .exp();                                                                    // (1)
            NDArray cos = imageEmb.expandDims(1)                                                 // (N, 1, E)
                    .matMul(textEmb.reshape(1, e, 1).broadcast(new Shape(n, e, 1)));           // · (N, E, 1) -> (N, 1, 1)
            return cos.reshape(n).mul(scale).toFloatArray();
        }
    }
}
