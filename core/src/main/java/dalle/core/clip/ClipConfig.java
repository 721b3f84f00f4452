package dalle.core.clip;

/**
 * Sizes of the contrastive reranker (a small CLIP, Radford et al. 2021): a text transformer and
 * an image CNN, each projected to a shared {@code embedDim}-wide unit sphere.
 *
 * <p>The image tower has {@link #IMAGE_STAGES} stages; stage {@code s} is a 3×3 convolution to
 * {@code imageWidth·2^s} channels, ReLU and a 2×2 max-pool, so a {@code imageSize}² image ends
 * as a {@code (imageSize/16)}² grid of {@code 8·imageWidth} channels before global average pooling.
 *
 * @param textVocab   number of text token ids (ids are in {@code [0, textVocab)})
 * @param textLength  longest caption in tokens (positions); shorter inputs are allowed
 * @param padTokenId  the id that marks an empty position; ignored by attention and pooling
 * @param imageSize   side of the square RGB input in pixels; divisible by 16
 * @param textWidth   text transformer width C; divisible by {@code textHeads}
 * @param textLayers  number of pre-LN transformer blocks
 * @param textHeads   attention heads per block
 * @param imageWidth  channels of the first CNN stage (doubled at every stage)
 * @param embedDim    width E of the shared embedding space
 * @param gridPooling how the image tower's last grid becomes one vector: {@code false} averages it
 *     (position-blind), {@code true} projects the whole flattened grid, so where a feature sits
 *     reaches the embedding (a linear stand-in for CLIP's attention pooling with positional
 *     embeddings). Spatial relations ("above", "to the left of") need it: with average pooling the
 *     tiny reranker picked the right image for a relation caption far less often than a perfect
 *     reranker could (MODEL_CARD.md). Absent from older config files, which read as {@code false}.
 */
public record ClipConfig(int textVocab, int textLength, int padTokenId, int imageSize, int textWidth,
                         int textLayers, int textHeads, int imageWidth, int embedDim, boolean gridPooling) {

    /** Sizes with average pooling ({@code gridPooling = false}). */
    public ClipConfig(int textVocab, int textLength, int padTokenId, int imageSize, int textWidth,
                      int textLayers, int textHeads, int imageWidth, int embedDim) {
        this(textVocab, textLength, padTokenId, imageSize, textWidth, textLayers, textHeads, imageWidth, embedDim, false);
    }

    /** Convolution + max-pool stages of the image tower (each halves the side). */
    public static final int IMAGE_STAGES = 4;

    /** MLP hidden width as a multiple of the text width (as in GPT-2 and CLIP). */
    public static final int MLP_RATIO = 4;

    public ClipConfig {
        positive("textVocab", textVocab);
        positive("textLength", textLength);
        positive("imageSize", imageSize);
        positive("textWidth", textWidth);
        positive("textLayers", textLayers);
        positive("textHeads", textHeads);
        positive("imageWidth", imageWidth);
        positive("embedDim", embedDim);
        if (padTokenId < 0 || padTokenId >= textVocab) {
            throw new IllegalArgumentException(
                    "padTokenId " + padTokenId + " is outside the text vocabulary [0, " + textVocab + ")");
        }
        if (textWidth % textHeads != 0) {
            throw new IllegalArgumentException(
                    "textWidth " + textWidth + " is not divisible by textHeads " + textHeads);
        }
        int factor = 1 << IMAGE_STAGES;
        if (imageSize % factor != 0) {
            throw new IllegalArgumentException("imageSize " + imageSize + " is not divisible by " + factor
                    + " (the image tower halves it " + IMAGE_STAGES + " times)");
        }
    }

    /**
     * The default small reranker for 64×64 images and captions of at most 32 tokens: text
     * transformer 128 wide, 2 layers, 4 heads; image CNN 32 → 64 → 128 → 256 channels down to 4×4;
     * 128-d embeddings: 0.42M text + 0.42M image parameters plus {@code 128·textVocab} for the token
     * table. A batch-64 training step takes ≈0.2 s on 2 CPU cores to ≈0.5 s when the cores are shared.
     */
    public static ClipConfig tiny(int textVocab, int padTokenId) {
        return new ClipConfig(textVocab, 32, padTokenId, 64, 128, 2, 4, 32, 128, true);
    }

    /**
     * Paper-scale sizes for planning: CLIP ViT-B/32's text tower (width 512, 12 layers, 8 heads,
     * 512-d embeddings) over DALL·E's 256-token captions, and this CNN at DALL·E's 256×256
     * resolution with base width 64. The image tower is our CNN, not a ViT; the parameter count
     * is analytic, so nothing is allocated.
     */
    public static ClipConfig paper(int textVocab, int padTokenId) {
        return new ClipConfig(textVocab, 256, padTokenId, 256, 512, 12, 8, 64, 512);
    }

    /** Width of the image tower's last stage, {@code imageWidth·2^(IMAGE_STAGES−1)}. */
    public int imageFeatures() {
        return imageWidth << (IMAGE_STAGES - 1);
    }

    /** Side of the image tower's last grid, {@code imageSize / 2^IMAGE_STAGES}. */
    public int imageGrid() {
        return imageSize >> IMAGE_STAGES;
    }

    /** Width of the vector the image projection reads: F, or F·G² with {@link #gridPooling}. */
    public int imageFeaturesPooled() {
        return gridPooling ? imageFeatures() * imageGrid() * imageGrid() : imageFeatures();
    }

    /**
     * Floating-point operations of the image tower on one image: 2 per multiply-add of each 3×3 convolution at the
     * resolution it runs at, and of the projection; normalisation, ReLUs and pooling are not counted.
     */
    public long imageFlopsPerImage() {
        long flops = 0;
        long in = 3;
        for (int s = 0; s < IMAGE_STAGES; s++) {
            long out = (long) imageWidth << s;
            long side = imageSize >> s;
            flops += 2 * in * out * 9 * side * side;
            in = out;
        }
        return flops + 2L * imageFeaturesPooled() * embedDim;
    }

    /**
     * Floating-point operations of the text tower on one caption of {@code tokens} positions: 2 per multiply-add of
     * the projections, the MLP, the attention products and the final projection; normalisation and softmax are
     * not counted.
     */
    public long textFlops(int tokens) {
        long c = textWidth;
        long t = tokens;
        long perLayer = 2 * t * (3 * c * c + c * c + 2 * MLP_RATIO * c * c) + 2 * 2 * t * t * c;
        return textLayers * perLayer + 2 * c * embedDim;
    }

    /** Parameters of the text tower, computed without allocating anything. */
    public long textParameterCount() {
        long c = textWidth;
        long hidden = MLP_RATIO * c;
        long block = 2 * c                       // ln1
                + c * 3 * c + 3 * c              // fused q, k, v
                + c * c + c                      // output projection
                + 2 * c                          // ln2
                + c * hidden + hidden            // mlp in
                + hidden * c + c;                // mlp out
        return (long) textVocab * c              // token embedding
                + (long) textLength * c          // position embedding
                + textLayers * block
                + 2 * c                          // final layer norm
                + c * embedDim;                  // projection (no bias)
    }

    /** Parameters of the image tower, computed without allocating anything. */
    public long imageParameterCount() {
        long total = 0;
        long in = 3;
        for (int s = 0; s < IMAGE_STAGES; s++) {
            long out = (long) imageWidth << s;
            total += out * in * 9 + out;         // 3×3 kernel + bias
            in = out;
        }
        return total + imageFeaturesPooled() * embedDim; // projection (no bias)
    }

    /** All parameters of a {@link ContrastiveScorer}: both towers and the learned temperature. */
    public long parameterCount() {
        return textParameterCount() + imageParameterCount() + 1;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
