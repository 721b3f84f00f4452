package dalle.core.dvae;

import ai.djl.ndarray.NDArray;

/**
 * The dVAE's training objective for one batch, all scalars (0-d arrays) on the batch's manager.
 *
 * @param total what to back-propagate: {@code reconstruction + β · kl / (3 · S · S)}, i.e. the
 *     negative ELB per pixel-channel (nats)
 * @param reconstruction the {@link Reconstruction} term's NLL (the paper's: logit-Laplace of the mapped image), averaged over every pixel-channel
 *     of the batch (nats per pixel-channel)
 * @param kl KL from the posterior softmax(logits) to the uniform prior over the codes, summed over
 *     the G·G grid positions and averaged over the batch (nats per image, unweighted)
 * @param usage {@link GumbelSoftmax#codeUsageGap} of the batch (nats, unweighted); it enters
 *     {@code total} only with a positive usage weight
 */
public record DvaeLoss(NDArray total, NDArray reconstruction, NDArray kl, NDArray usage) {}
