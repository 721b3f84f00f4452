package dalle.core.pipeline;

import dalle.core.sampling.SamplingParams;
import java.util.Objects;

/**
 * One caption to turn into images.
 *
 * @param caption the text; 1 to {@link #MAX_CAPTION_CHARS} characters, not blank
 * @param candidates N, how many image-token grids to sample: 1 to {@link #MAX_CANDIDATES}
 * @param topK k, how many reranked images to return: 1 to {@code candidates}
 * @param seed the request seed; candidate i draws from its own stream derived from (seed, i)
 * @param sampling temperature, top-k, top-p and classifier-free guidance for the image tokens
 */
public record GenerationRequest(String caption, int candidates, int topK, long seed, SamplingParams sampling) {

    public static final int MAX_CAPTION_CHARS = 1000;
    public static final int MAX_CANDIDATES = 512;

    public GenerationRequest {
        Objects.requireNonNull(caption, "caption");
        Objects.requireNonNull(sampling, "sampling");
        if (caption.isBlank()) {
            throw new IllegalArgumentException("caption: must not be empty");
        }
        if (caption.length() > MAX_CAPTION_CHARS) {
            throw new IllegalArgumentException("caption: " + caption.length() + " characters, at most "
                    + MAX_CAPTION_CHARS + " allowed");
        }
        if (candidates < 1 || candidates > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates: " + candidates + " is outside 1.." + MAX_CANDIDATES);
        }
        if (topK < 1 || topK > candidates) {
            throw new IllegalArgumentException("top_k: " + topK + " is outside 1..candidates (" + candidates + ")");
        }
    }

    /** N candidates, the best k, default sampling (temperature 1, as the paper). */
    public static GenerationRequest of(String caption, int candidates, int topK, long seed) {
        return new GenerationRequest(caption, candidates, topK, seed, SamplingParams.DEFAULT);
    }
}
