package dalle.training.cluster.powersgd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.transformer.PriorConfig;
import java.util.SplittableRandom;

/**
 * An endless, seeded stream of learnable text + image-token examples for a {@link PriorConfig}, for
 * comparing training recipes (exact vs compressed averaging, fp32 vs fp16/bf16) without a tokenizer
 * or a dVAE. Example i (any long; training uses i ≥ 0, evaluation i &lt; 0, so they never meet) is a
 * function of (seed, i) only:
 * <ul>
 *   <li>a caption of 1..Tt−1 uniformly random non-pad tokens, then pads;</li>
 *   <li>an image grid whose pattern is chosen by the caption's first token c: token(row, col) =
 *       (31c + row·(1 + c mod 3) + col·(1 + c mod 5)) mod imageVocab, each cell replaced by a uniformly
 *       random code with probability 1/10.</li>
 * </ul>
 * The pattern is learnable from the text; the random captions and the noise set a floor that no
 * model goes below, so fresh examples measure learning, not memorisation.
 */
public final class SyntheticStreams {

    private final PriorConfig config;
    private final long seed;

    public SyntheticStreams(PriorConfig config, long seed) {
        if (config.textVocab() < 2) {
            throw new IllegalArgumentException("text vocabulary " + config.textVocab() + " needs a non-pad token");
        }
        this.config = config;
        this.seed = seed;
    }

    /** Writes example {@code index} into text[tOff..tOff+Tt) and image[iOff..iOff+Ti). */
    private void example(long index, int[] text, int tOff, int[] image, int iOff) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        rng = rng.split();                              // decorrelates neighbouring indices
        int tt = config.textLength();
        int g = config.gridSize();
        int length = 1 + rng.nextInt(tt - 1);
        for (int p = 0; p < tt; p++) {
            text[tOff + p] = p < length ? nonPad(rng) : config.padTokenId();
        }
        int c = text[tOff];
        for (int r = 0; r < g; r++) {
            for (int col = 0; col < g; col++) {
                int code = (31 * c + r * (1 + c % 3) + col * (1 + c % 5)) % config.imageVocab();
                image[iOff + r * g + col] = rng.nextInt(10) == 0 ? rng.nextInt(config.imageVocab()) : code;
            }
        }
    }

    private int nonPad(SplittableRandom rng) {
        int t = rng.nextInt(config.textVocab() - 1);
        return t >= config.padTokenId() ? t + 1 : t;
    }

    /**
     * Examples {@code first .. first + count − 1} as text (count, Tt) and image (count, Ti) int arrays on
     * {@code manager}.
     */
    public NDArray[] batch(long first, int count, NDManager manager) {
        int tt = config.textLength();
        int ti = config.imageTokens();
        int[] t = new int[count * tt];
        int[] im = new int[count * ti];
        for (int b = 0; b < count; b++) {
            example(first + b, t, b * tt, im, b * ti);
        }
        return new NDArray[] {manager.create(t, new Shape(count, tt)), manager.create(im, new Shape(count, ti))};
    }

    /** The held-out examples −count .. −1, which training (indices ≥ 0) never sees. */
    public NDArray[] heldOut(int count, NDManager manager) {
        return batch(-count, count, manager);
    }
}
