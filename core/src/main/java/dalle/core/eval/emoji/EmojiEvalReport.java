package dalle.core.eval.emoji;

import dalle.core.eval.EvalReport.Reconstruction;
import java.util.List;
import java.util.Objects;

/**
 * Everything one emoji evaluation of a bundle measured; written out by {@link EmojiEvalReportWriter}.
 *
 * @param bundleVersion the bundle evaluated
 * @param data the prepared data's packages, e.g. {@code emoji-datasource-google@16.0.0 sha512-...}
 * @param options what was measured
 * @param ceilings the judge's cross-vendor identification over every picture, one per reference vendor
 * @param sets one result per caption set, in {@link EmojiEvalSet} order
 * @param reconstructions dVAE reconstruction: held-out pictures, then training pictures (empty when skipped)
 * @param timings wall time spent, in seconds
 */
public record EmojiEvalReport(String bundleVersion, List<String> data, EmojiEvalOptions options,
                              List<Ceiling> ceilings, List<SetResult> sets, List<Reconstruction> reconstructions,
                              Timings timings) {

    public EmojiEvalReport {
        Objects.requireNonNull(bundleVersion, "bundleVersion");
        data = List.copyOf(data);
        Objects.requireNonNull(options, "options");
        ceilings = List.copyOf(ceilings);
        sets = List.copyOf(sets);
        reconstructions = List.copyOf(reconstructions);
        Objects.requireNonNull(timings, "timings");
    }

    /**
     * The judge's ceiling: how often the other vendor's true rendering identifies the caption among {@code reference}'s
     * pictures (what a faithful drawing in the other artist's hand scores).
     *
     * @param reference the vendor whose set is searched
     * @param pictures the other vendor's pictures judged
     */
    public record Ceiling(String reference, int pictures, double top1, double top5) {}

    /**
     * One caption's candidates, ranked by the judge and reranked at every N.
     *
     * @param caption the caption
     * @param vendor the vendor whose rendering is the truth (named in the caption)
     * @param code the true picture's code points
     * @param seed the request seed ({@code dalle generate -s seed} gives the same candidates)
     * @param ranks per candidate, the rank of the true rendering among the vendor's set (0 = nearest)
     * @param scores per candidate, the reranker's score
     * @param picks per N (the options' order), the kept candidate: the best-scoring of the first N
     * @param ceilingRank the rank of the true rendering when the other vendor's rendering is judged, -1 without one
     */
    public record CaptionResult(String caption, String vendor, String code, long seed, List<Integer> ranks,
                                List<Float> scores, List<Integer> picks, int ceilingRank) {
        public CaptionResult {
            ranks = List.copyOf(ranks);
            scores = List.copyOf(scores);
            picks = List.copyOf(picks);
        }

        /** Whether the kept candidate at the {@code i}-th N puts the truth within the judge's top {@code k}. */
        public boolean hit(int i, int k) {
            return ranks.get(picks.get(i)) < k;
        }

        /** Whether any of the first {@code n} candidates puts the truth within the top {@code k}: a perfect reranker. */
        public boolean bestOf(int n, int k) {
            for (int c = 0; c < n; c++) {
                if (ranks.get(c) < k) {
                    return true;
                }
            }
            return false;
        }

        /** The share of all candidates that put the truth within the top {@code k}: the prior alone. */
        public double raw(int k) {
            return ranks.stream().filter(r -> r < k).count() / (double) ranks.size();
        }
    }

    /** One caption set's results. */
    public record SetResult(EmojiEvalSet set, List<Integer> ns, List<CaptionResult> captions) {
        public SetResult {
            ns = List.copyOf(ns);
            captions = List.copyOf(captions);
            if (captions.isEmpty()) {
                throw new IllegalArgumentException("set " + set + " has no captions");
            }
        }

        /** Share of captions whose kept candidate at the {@code i}-th N is a top-{@code k} hit. */
        public double hitRate(int i, int k) {
            return captions.stream().filter(c -> c.hit(i, k)).count() / (double) captions.size();
        }

        /** Share of captions with a top-{@code k} hit among the first {@code ns().get(i)} candidates. */
        public double bestOfRate(int i, int k) {
            int n = ns.get(i);
            return captions.stream().filter(c -> c.bestOf(n, k)).count() / (double) captions.size();
        }

        /** Mean over captions of the share of candidates that are top-{@code k} hits. */
        public double rawRate(int k) {
            return captions.stream().mapToDouble(c -> c.raw(k)).average().orElseThrow();
        }

        /** The judge's ceiling on this set's captions: the other vendor's rendering as the candidate. */
        public double ceilingRate(int k) {
            List<CaptionResult> judged = captions.stream().filter(c -> c.ceilingRank() >= 0).toList();
            return judged.isEmpty() ? Double.NaN
                    : judged.stream().filter(c -> c.ceilingRank() < k).count() / (double) judged.size();
        }
    }

    /**
     * Wall time in seconds.
     *
     * @param load loading the data and the judge's references
     * @param captionMatch the caption sets
     * @param sample of which sampling image tokens
     * @param decode of which decoding
     * @param score of which reranking
     * @param reconstruction the dVAE reconstruction check
     */
    public record Timings(double load, double captionMatch, double sample, double decode, double score,
                          double reconstruction) {}
}
