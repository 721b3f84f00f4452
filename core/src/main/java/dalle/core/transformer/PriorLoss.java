package dalle.core.transformer;

import ai.djl.ndarray.NDArray;

/**
 * The prior's training loss (PAPER.md, "Stage 2"): scalar fp32 arrays, in nats per token.
 *
 * @param total {@code text / 8 + 7 · image / 8}, the quantity to back-propagate
 * @param text  cross-entropy averaged over the B·(Tt − 1) text targets (padding targets included)
 * @param image cross-entropy averaged over the B·Ti image targets
 */
public record PriorLoss(NDArray total, NDArray text, NDArray image) {

    /** Weight of the text loss in {@link #total}. */
    public static final float TEXT_WEIGHT = 1f / 8f;
    /** Weight of the image loss in {@link #total}. */
    public static final float IMAGE_WEIGHT = 7f / 8f;
}
