package dalle.core.transformer;

/**
 * Sizes of the stage-2 transformer prior (PAPER.md, "Stage 2").
 *
 * <p>The stream is {@code textLength} text slots (caption tokens, then {@code padTokenId} in the
 * empty slots) followed by {@code gridSize²} image tokens. The model reads the stream minus its
 * last token, so its input has {@link #inputLength()} = Tt + Ti − 1 positions, and predicts over
 * one joint vocabulary of {@link #vocabSize()} = textVocab + Tt (one padding target per text
 * position) + imageVocab logits.
 *
 * @param textVocab   BPE vocabulary size (ids in [0, textVocab))
 * @param textLength  text slots Tt (at least 2, so that there is a text target)
 * @param padTokenId  the tokenizer's padding id, in [0, textVocab)
 * @param imageVocab  dVAE codebook size (image ids in [0, imageVocab))
 * @param gridSize    image tokens per side G; Ti = G²
 * @param width       model width C
 * @param heads       attention heads H; C must be divisible by H
 * @param layers      transformer blocks L (the last one uses the convolutional mask)
 * @param convKernel  odd side K of the last layer's causal convolutional window
 * @param mlpRatio    MLP hidden width as a multiple of C
 */
public record PriorConfig(int textVocab, int textLength, int padTokenId, int imageVocab, int gridSize,
                          int width, int heads, int layers, int convKernel, int mlpRatio) {

    public PriorConfig {
        positive("textVocab", textVocab);
        positive("imageVocab", imageVocab);
        positive("width", width);
        positive("heads", heads);
        positive("layers", layers);
        positive("mlpRatio", mlpRatio);
        if (textLength < 2) {
            throw new IllegalArgumentException("textLength " + textLength + " must be at least 2");
        }
        if (padTokenId < 0 || padTokenId >= textVocab) {
            throw new IllegalArgumentException("padTokenId " + padTokenId + " is outside [0, textVocab " + textVocab + ")");
        }
        if (gridSize < 2) {
            throw new IllegalArgumentException("gridSize " + gridSize + " must be at least 2");
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        if (convKernel < 1 || convKernel % 2 == 0) {
            throw new IllegalArgumentException("convKernel " + convKernel + " must be odd and positive");
        }
        long vocab = (long) textVocab + textLength + imageVocab;
        if (vocab > Integer.MAX_VALUE || (long) gridSize * gridSize + textLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("vocabulary " + vocab + " or stream length is too large");
        }
    }

    /**
     * The default small model: 32 text slots, an 8×8 grid over 512 codes, width 256, 4 heads,
     * 4 layers. The convolutional kernel is 5, not the paper's 11: on an 8×8 grid an 11×11 causal
     * window (5 rows up, 5 columns either side) covers almost the whole causal past and would no
     * longer be a local mask; 5 keeps it local (2 rows up, 2 columns either side), as 11 is local
     * on the paper's 32×32 grid.
     */
    public static PriorConfig tiny(int textVocab, int padTokenId) {
        return new PriorConfig(textVocab, 32, padTokenId, 512, 8, 256, 4, 4, 5, 4);
    }

    /**
     * The tiny model's stream (32 text slots, an 8×8 grid over 512 codes, kernel 5) at width 512, 8 heads
     * of 64 and 8 layers: 8× the tiny model's compute per token, for benchmarks of how cost grows with size.
     */
    public static PriorConfig small(int textVocab, int padTokenId) {
        return new PriorConfig(textVocab, 32, padTokenId, 512, 8, 512, 8, 8, 5, 4);
    }

    /** The paper's 12B model: 256 text slots over 16384 BPE ids, 32×32 grid over 8192 codes, 64 layers of width 3968. */
    public static PriorConfig paper() {
        return new PriorConfig(16384, 256, 0, 8192, 32, 3968, 62, 64, 11, 4);
    }

    /** Image tokens per sample, Ti = G². */
    public int imageTokens() {
        return gridSize * gridSize;
    }

    /** Stream length Tt + Ti. */
    public int streamLength() {
        return textLength + imageTokens();
    }

    /** Model input length Tt + Ti − 1 (the stream minus its last token). */
    public int inputLength() {
        return streamLength() - 1;
    }

    /** Joint output vocabulary: textVocab + Tt padding targets + imageVocab. */
    public int vocabSize() {
        return textVocab + textLength + imageVocab;
    }

    /** First logit of the image part of the joint vocabulary (textVocab + Tt). */
    public int imageLogitOffset() {
        return textVocab + textLength;
    }

    /** Per-head width C/H. */
    public int headWidth() {
        return width / heads;
    }

    /**
     * Number of scalars in the model, computed from the sizes without allocating anything
     * (so the paper preset can be planned for). Equals {@code new DallePrior(...).parameterCount()}.
     */
    public long parameterCount() {
        long c = width;
        long hidden = (long) mlpRatio * c;
        long embeddings = ((long) textVocab + 2L * textLength + imageVocab + 2L * gridSize) * c;
        long perLayer = 2 * (2 * c)                 // ln1, ln2 gain + bias
                + c * 3 * c + 3 * c                 // fused qkv projection
                + c * c + c                         // attention output projection
                + c * hidden + hidden               // mlp in
                + hidden * c + c;                   // mlp out
        long head = 2 * c + c * vocabSize();        // final layer norm, unembedding (no bias)
        return embeddings + layers * perLayer + head;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " " + value + " must be positive");
        }
    }
}
