package dalle.core.eval;

import dalle.core.pipeline.GenerationRequest;
import dalle.core.sampling.SamplingParams;
import java.util.List;
import java.util.Objects;

/**
 * What an evaluation measures and how.
 *
 * @param captionsPerSet captions of each {@link dalle.core.data.shapes.EvalSet}, 1 to {@link #MAX_CAPTIONS_PER_SET}
 * @param ns the reranking sizes N to report, strictly increasing, each in 1..{@link GenerationRequest#MAX_CANDIDATES};
 *     the largest is how many candidates are sampled per caption (a smaller N reranks the first N of them)
 * @param seed seeds both the relation captions and every caption's candidates; same bundle + seed, same numbers
 * @param sampling how image tokens are drawn (the paper: temperature 1, no truncation)
 * @param reconstructionImages held-out images for the dVAE reconstruction check; 0 skips it
 */
public record EvalOptions(int captionsPerSet, List<Integer> ns, long seed, SamplingParams sampling,
                          int reconstructionImages) {

    /** The paper's reranking sizes up to where its gains flatten (PAPER.md "Sampling and reranking"). */
    public static final List<Integer> DEFAULT_NS = List.of(1, 2, 4, 8, 16, 32);
    public static final int DEFAULT_CAPTIONS_PER_SET = 24;
    public static final int DEFAULT_RECONSTRUCTION_IMAGES = 256;
    public static final int MAX_CAPTIONS_PER_SET = 100_000;

    public EvalOptions {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(sampling, "sampling");
        ns = List.copyOf(ns);
        if (captionsPerSet < 1 || captionsPerSet > MAX_CAPTIONS_PER_SET) {
            throw new IllegalArgumentException("captions per set: " + captionsPerSet + " is outside 1.."
                    + MAX_CAPTIONS_PER_SET);
        }
        if (ns.isEmpty()) {
            throw new IllegalArgumentException("n: at least one reranking size is needed");
        }
        for (int i = 0; i < ns.size(); i++) {
            int n = ns.get(i);
            if (n < 1 || n > GenerationRequest.MAX_CANDIDATES) {
                throw new IllegalArgumentException("n: " + n + " is outside 1.." + GenerationRequest.MAX_CANDIDATES);
            }
            if (i > 0 && n <= ns.get(i - 1)) {
                throw new IllegalArgumentException("n: sizes must be strictly increasing, got " + ns);
            }
        }
        if (reconstructionImages < 0) {
            throw new IllegalArgumentException("reconstruction images: " + reconstructionImages + " must be >= 0");
        }
    }

    /** 24 captions per set, N = 1..32, seed 0, the paper's sampling, 256 reconstruction images. */
    public static EvalOptions defaults() {
        return new EvalOptions(DEFAULT_CAPTIONS_PER_SET, DEFAULT_NS, 0, SamplingParams.DEFAULT,
                DEFAULT_RECONSTRUCTION_IMAGES);
    }

    /** Candidates sampled per caption: the largest N. */
    public int maxN() {
        return ns.get(ns.size() - 1);
    }
}
