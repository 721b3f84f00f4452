package dalle.core.pipeline;

import dalle.core.image.RgbImage;

/**
 * One sampled candidate after decoding and reranking.
 *
 * @param index candidate index within its request (its RNG stream is derived from (seed, index))
 * @param codes the sampled image tokens, raster order
 * @param image the dVAE decoding of {@code codes}
 * @param score the reranker's caption–image score (higher = better match)
 */
public record Candidate(int index, int[] codes, RgbImage image, float score) {}
