package dalle.core.eval.emoji;

import dalle.core.eval.EvalOptions;
import dalle.core.pipeline.GenerationRequest;
import dalle.core.sampling.SamplingParams;
import java.util.List;
import java.util.Objects;

/**
 * What an emoji evaluation measures and how.
 *
 * @param captionsPerVendor captions of each {@link EmojiEvalSet} and vendor; a set with fewer pictures uses all of
 *     them (the held-out pairs are 22 per vendor)
 * @param ns reranking sizes, strictly increasing, each in 1..{@link GenerationRequest#MAX_CANDIDATES}; the largest is
 *     sampled per caption and a smaller N reranks the first N
 * @param seed seeds the choice of captions and every caption's candidates; same bundle, data and seed, same numbers
 * @param sampling how image tokens are drawn (the paper: temperature 1, no truncation)
 * @param reconstruction whether to measure the dVAE's PSNR (every held-out picture, and as many training pictures)
 * @param judgeCells side of the judge's feature grid ({@link EmojiJudge})
 */
public record EmojiEvalOptions(int captionsPerVendor, List<Integer> ns, long seed, SamplingParams sampling,
                               boolean reconstruction, int judgeCells) {

    /** The judge's feature grid: 8×8 RGB identified other-vendor renderings best of 2, 4, 8, 16, 32 and 64. */
    public static final int DEFAULT_JUDGE_CELLS = 8;
    public static final int DEFAULT_CAPTIONS_PER_VENDOR = 24;

    public EmojiEvalOptions {
        Objects.requireNonNull(sampling, "sampling");
        ns = List.copyOf(ns);
        // the same rules as the shapes evaluation's
        new EvalOptions(Math.max(1, captionsPerVendor), ns, seed, sampling, 0);
        if (captionsPerVendor < 1) {
            throw new IllegalArgumentException("captions per set: " + captionsPerVendor + " must be at least 1");
        }
        if (judgeCells < 1 || 64 % judgeCells != 0) {
            throw new IllegalArgumentException("judge cells: " + judgeCells + " must divide 64");
        }
    }

    /** 24 captions per set and vendor, N = 1..32, seed 0, the paper's sampling, PSNR on, the 8×8 judge. */
    public static EmojiEvalOptions defaults() {
        return new EmojiEvalOptions(DEFAULT_CAPTIONS_PER_VENDOR, EvalOptions.DEFAULT_NS, 0, SamplingParams.DEFAULT, true,
                DEFAULT_JUDGE_CELLS);
    }

    /** Candidates sampled per caption: the largest N. */
    public int maxN() {
        return ns.get(ns.size() - 1);
    }
}
