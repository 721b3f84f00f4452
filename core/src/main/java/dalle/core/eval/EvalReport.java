package dalle.core.eval;

import dalle.core.data.shapes.EvalSet;
import java.util.List;
import java.util.Objects;

/**
 * Everything one evaluation of a bundle measured: caption-match accuracy per caption set and
 * reranking size N, and the dVAE's reconstruction quality. Written out by {@link EvalReportWriter}.
 *
 * @param bundleVersion the bundle evaluated
 * @param options what was measured (captions per set, the Ns, seed, sampling)
 * @param sets one result per caption set, in {@link EvalSet} order
 * @param reconstructions dVAE reconstruction results (empty when skipped)
 * @param timings wall time spent, in seconds
 */
public record EvalReport(String bundleVersion, EvalOptions options, List<SetResult> sets,
                         List<Reconstruction> reconstructions, Timings timings) {

    public EvalReport {
        Objects.requireNonNull(bundleVersion, "bundleVersion");
        Objects.requireNonNull(options, "options");
        sets = List.copyOf(sets);
        reconstructions = List.copyOf(reconstructions);
        Objects.requireNonNull(timings, "timings");
    }

    /**
     * The candidate reranking kept at one N, and the oracle's verdict on it.
     *
     * @param n the reranking size: the best-scoring of candidates 0..n-1 was kept
     * @param candidate index of the kept candidate (ties go to the lower index)
     * @param score its reranker score
     * @param matches the oracle's verdict on it
     * @param reason the oracle's one-line reason
     */
    public record Pick(int n, int candidate, float score, boolean matches, String reason) {}

    /**
     * One caption's candidates, reranked at every N.
     *
     * @param caption the caption
     * @param seed the request seed its candidates were drawn with ({@code dalle generate -s seed} gives the same ones)
     * @param scores reranker score of every sampled candidate, by candidate index
     * @param matching indices of the candidates the oracle accepts, ascending
     * @param picks the kept candidate per N, in the order of the options' Ns
     */
    public record CaptionResult(String caption, long seed, List<Float> scores, List<Integer> matching,
                                List<Pick> picks) {
        public CaptionResult {
            scores = List.copyOf(scores);
            matching = List.copyOf(matching);
            picks = List.copyOf(picks);
        }

        /** Whether any of candidates 0..n-1 matches: what a perfect reranker would achieve at N = n. */
        public boolean oracleBest(int n) {
            return !matching.isEmpty() && matching.get(0) < n;
        }

        /** Fraction of all sampled candidates that match: the prior's raw accuracy on this caption. */
        public double matchFraction() {
            return matching.size() / (double) scores.size();
        }
    }

    /**
     * One caption set's results.
     *
     * @param set which caption list
     * @param ns the reranking sizes, as in the options
     * @param captions per caption, in list order
     */
    public record SetResult(EvalSet set, List<Integer> ns, List<CaptionResult> captions) {
        public SetResult {
            ns = List.copyOf(ns);
            captions = List.copyOf(captions);
            if (captions.isEmpty()) {
                throw new IllegalArgumentException("set " + set + " has no captions");
            }
        }

        /** Fraction of captions whose kept candidate at {@code ns().get(i)} matches. */
        public double accuracy(int i) {
            return captions.stream().filter(c -> c.picks().get(i).matches()).count() / (double) captions.size();
        }

        /** Fraction of captions with any matching candidate among the first {@code ns().get(i)}. */
        public double oracleBest(int i) {
            int n = ns.get(i);
            return captions.stream().filter(c -> c.oracleBest(n)).count() / (double) captions.size();
        }

        /**
         * Mean over captions of the fraction of candidates that match: the prior's accuracy without
         * a reranker, an estimate of {@code accuracy} at N = 1 over all the samples.
         */
        public double rawAccuracy() {
            return captions.stream().mapToDouble(CaptionResult::matchFraction).average().orElseThrow();
        }
    }

    /**
     * The dVAE's reconstruction quality, {@code decode(encode(x))} against {@code x}.
     *
     * @param source which images, e.g. {@code shapes:held_out:seed=0[0..256)}
     * @param images how many
     * @param resolution their side in pixels
     * @param meanPsnrDb mean over images of the PSNR in dB, pixels in [0, 1]; an exact reconstruction
     *     counts as {@link ReconstructionEvaluator#EXACT_PSNR_DB}
     * @param minPsnrDb the worst image's PSNR
     * @param maxPsnrDb the best image's PSNR (+∞ if one is reconstructed exactly)
     * @param exact images reconstructed exactly
     * @param perplexity exp of the entropy of the code histogram over all encoded cells, in [1, K]
     * @param distinctCodes codes used at least once
     * @param codebookSize K
     * @param cells grid cells encoded (images × G²)
     */
    public record Reconstruction(String source, int images, int resolution, double meanPsnrDb, double minPsnrDb,
                                 double maxPsnrDb, int exact, double perplexity, int distinctCodes, int codebookSize,
                                 long cells) {}

    /**
     * Wall time in seconds.
     *
     * @param captionMatch the whole caption-match evaluation
     * @param sample of which sampling image tokens
     * @param decode of which decoding candidates
     * @param score of which reranking
     * @param judge of which the oracle's verdicts
     * @param reconstruction the dVAE reconstruction check
     */
    public record Timings(double captionMatch, double sample, double decode, double score, double judge,
                          double reconstruction) {}
}
