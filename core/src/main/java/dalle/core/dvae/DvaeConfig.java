package dalle.core.dvae;

/**
 * Sizes of the discrete VAE (PAPER.md "Stage 1"): an {@code imageSize}² RGB image becomes a
 * {@code gridSize}² grid of tokens over {@code codebookSize} codes.
 *
 * <p>The architecture is fixed at {@link #GROUPS} = 4 groups of {@code blocksPerGroup} bottleneck
 * resblocks, at widths {@code w, 2w, 4w, 8w} in the encoder and {@code 8w, 4w, 2w, w} in the
 * decoder, with a 2×2 max-pool (encoder) or nearest ×2 upsampling (decoder) between groups. The paper
 * halves three times ({@code imageSize == 8 · gridSize}); a finer grid halves fewer times
 * ({@code imageSize == 4 · gridSize} or {@code 2 · gridSize}, {@link #halvings()}): the encoder then
 * skips its last poolings and the decoder its first upsamplings, so the widest groups run at the grid's
 * resolution, as in the paper.
 *
 * @param imageSize side of the square input image in pixels
 * @param gridSize side of the square token grid
 * @param codebookSize K, the number of codes
 * @param width w, the encoder's first-group and the decoder's last-group width (a multiple of 4:
 *     the bottleneck width is {@code out / 4})
 * @param blocksPerGroup resblocks per group (the released model uses 2)
 * @param decoderInitWidth channels of the decoder's first 1×1 conv from the K one-hot channels
 *     (the released model uses 128 with w = 256)
 */
public record DvaeConfig(int imageSize, int gridSize, int codebookSize, int width, int blocksPerGroup,
                         int decoderInitWidth) {

    /** Number of resblock groups; fixed by the architecture. */
    public static final int GROUPS = 4;

    /** The paper's spatial down-sampling from image to grid: three 2×2 poolings. */
    public static final int DOWNSAMPLING = 8;

    /** RGB input channels. */
    public static final int CHANNELS = 3;

    public DvaeConfig {
        if (gridSize <= 0) {
            throw new IllegalArgumentException("gridSize must be positive, got " + gridSize);
        }
        if (imageSize != gridSize * 8 && imageSize != gridSize * 4 && imageSize != gridSize * 2) {
            throw new IllegalArgumentException("imageSize " + imageSize + " must be gridSize " + gridSize
                    + " × 8 = " + gridSize * 8 + " (the paper's three 2×2 poolings between the four groups), × 4 = "
                    + gridSize * 4 + " or × 2 = " + gridSize * 2 + " (two or one)");
        }
        if (codebookSize < 2) {
            throw new IllegalArgumentException("codebookSize must be at least 2, got " + codebookSize);
        }
        if (width <= 0 || width % 4 != 0) {
            throw new IllegalArgumentException("width " + width + " must be a positive multiple of 4"
                    + " (the bottleneck width is width / 4)");
        }
        if (blocksPerGroup <= 0) {
            throw new IllegalArgumentException("blocksPerGroup must be positive, got " + blocksPerGroup);
        }
        if (decoderInitWidth <= 0) {
            throw new IllegalArgumentException("decoderInitWidth must be positive, got " + decoderInitWidth);
        }
    }

    /**
     * The default for two CPU cores: 64×64 images, an 8×8 grid, K = 512, w = 32, one block per
     * group (0.76 M parameters). A training step (batch 32, forward + backward + AdamW) took 0.38 s
     * best, 0.44 s mean on the 2-core development machine (two blocks per group: 0.58 s; w = 64: 1.1 s).
     */
    public static DvaeConfig tiny() {
        return new DvaeConfig(64, 8, 512, 32, 1, 16);
    }

    /** 128×128 images, a 16×16 grid, K = 2048, w = 64, two blocks per group. */
    public static DvaeConfig small() {
        return new DvaeConfig(128, 16, 2048, 64, 2, 32);
    }

    /**
     * The paper's dVAE as released (openai/DALL-E): 256×256 images, 32×32 grid, K = 8192,
     * n_hid = 256, 2 blocks per group, n_init = 128.
     */
    public static DvaeConfig paper() {
        return new DvaeConfig(256, 32, 8192, 256, 2, 128);
    }

    /** 2×2 poolings from image to grid: 3 ({@code imageSize == 8 · gridSize}, the paper's), 2 or 1. */
    public int halvings() {
        return Integer.numberOfTrailingZeros(imageSize / gridSize);
    }

    /** Whether the encoder pools after group {@code g} (0-based, {@code g < GROUPS − 1}): after the first {@link #halvings()}. */
    public boolean poolsAfter(int g) {
        return g < halvings();
    }

    /** Whether the decoder upsamples after group {@code g} (0-based, {@code g < GROUPS − 1}): after the last {@link #halvings()}. */
    public boolean upsamplesAfter(int g) {
        return g >= GROUPS - 1 - halvings();
    }

    /** Number of tokens per image: {@code gridSize²}. */
    public int tokens() {
        return gridSize * gridSize;
    }

    /** Total resblocks in the encoder (and, equally, the decoder); the residual gain is its inverse square. */
    public int resblocks() {
        return GROUPS * blocksPerGroup;
    }

    /** The residual branch multiplier, {@code 1 / resblocks()²}. */
    public float postGain() {
        return 1f / ((float) resblocks() * resblocks());
    }

    /** Width of group {@code g} (0-based) of the encoder: {@code w · 2^g}. The decoder visits them in reverse. */
    public int groupWidth(int g) {
        return width << g;
    }

    /** Encoder parameters, counted without allocating anything. */
    public long encoderParameterCount() {
        long n = conv(CHANNELS, width, 7);
        int in = width;
        for (int g = 0; g < GROUPS; g++) {
            int out = groupWidth(g);
            for (int b = 0; b < blocksPerGroup; b++) {
                n += block(in, out, 3, 3, 3, 1);
                in = out;
            }
        }
        return n + conv(in, codebookSize, 1);
    }

    /** Decoder parameters, counted without allocating anything. */
    public long decoderParameterCount() {
        long n = conv(codebookSize, decoderInitWidth, 1);
        int in = decoderInitWidth;
        for (int g = GROUPS - 1; g >= 0; g--) {
            int out = groupWidth(g);
            for (int b = 0; b < blocksPerGroup; b++) {
                n += block(in, out, 1, 3, 3, 3);
                in = out;
            }
        }
        return n + conv(in, 2 * CHANNELS, 1);
    }

    /**
     * Floating-point operations of one image's decoder forward pass: 2 per multiply-add of every convolution, at the
     * resolution it runs at (the input 1×1 conv over the K one-hot channels included); biases, ReLUs and the
     * upsamplings are not counted. Computed without allocating anything.
     */
    public long decoderFlopsPerImage() {
        long positions = (long) gridSize * gridSize;
        long flops = convFlops(codebookSize, decoderInitWidth, 1, positions);
        int in = decoderInitWidth;
        for (int g = 0; g < GROUPS; g++) {
            int out = groupWidth(GROUPS - 1 - g);
            int hid = out / 4;
            for (int b = 0; b < blocksPerGroup; b++) {
                flops += (in == out ? 0 : convFlops(in, out, 1, positions)) + convFlops(in, hid, 1, positions)
                        + 2 * convFlops(hid, hid, 3, positions) + convFlops(hid, out, 3, positions);
                in = out;
            }
            if (g < GROUPS - 1 && upsamplesAfter(g)) {
                positions *= 4;
            }
        }
        return flops + convFlops(in, 2 * CHANNELS, 1, positions);
    }

    private static long convFlops(long in, long out, long k, long positions) {
        return 2 * in * out * k * k * positions;
    }

    /** Encoder plus decoder parameters; equals {@code new Dvae(...).parameterCount()}. */
    public long parameterCount() {
        return encoderParameterCount() + decoderParameterCount();
    }

    private static long block(int in, int out, int k1, int k2, int k3, int k4) {
        int hid = out / 4;
        long id = in == out ? 0 : conv(in, out, 1);
        return id + conv(in, hid, k1) + conv(hid, hid, k2) + conv(hid, hid, k3) + conv(hid, out, k4);
    }

    private static long conv(long in, long out, long k) {
        return out * in * k * k + out;
    }
}
