package dalle.core.eval;

import dalle.core.data.shapes.EvalSet;
import dalle.core.data.shapes.Oracle;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.data.shapes.Verdict;
import dalle.core.eval.EvalReport.CaptionResult;
import dalle.core.eval.EvalReport.Pick;
import dalle.core.eval.EvalReport.SetResult;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Caption-match accuracy, the automatic stand-in for the paper's human "does the image match the
 * caption" vote: generate for the fixed caption lists of {@link ShapesDataset#evaluationCaptions}
 * and let the {@link Oracle} judge the image the reranker keeps.
 *
 * <p>Reranking sizes share their samples. Every candidate draws from its own RNG stream derived
 * from (seed, candidate index), so the first n candidates of a request for N are exactly the
 * candidates of a request for n. Each caption therefore samples max N candidates once, decodes,
 * scores and judges each once, and for every n keeps the best-scoring among candidates 0..n-1.
 * Besides that accuracy it reports the oracle-best@n upper bound (any of the first n matches: a
 * perfect reranker) and the fraction of candidates that match (the prior alone): together they
 * say whether the prior or the reranker is the weak link.
 *
 * <p>Cost per caption: max N candidates through the prior, the dVAE decoder, the reranker and
 * the oracle. Not thread-safe (it keeps stage timings); use one per thread.
 */
public final class CaptionMatchEvaluator {

    private final Pipeline pipeline;
    private final Oracle oracle = new Oracle();
    private long sampleNanos;
    private long decodeNanos;
    private long scoreNanos;
    private long judgeNanos;

    /**
     * The sets' results and where the time went (seconds).
     *
     * @param sets one per {@link EvalSet}, in enum order
     */
    public record Run(List<SetResult> sets, double seconds, double sampleSeconds, double decodeSeconds,
                      double scoreSeconds, double judgeSeconds) {}

    public CaptionMatchEvaluator(Pipeline pipeline) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    }

    /**
     * Evaluates every {@link EvalSet} with {@code options.captionsPerSet()} captions each.
     *
     * @param progress told {@code ("captions", done, total)} after each caption
     */
    public Run evaluate(EvalOptions options, Pipeline.Progress progress) {
        long t0 = System.nanoTime();
        sampleNanos = decodeNanos = scoreNanos = judgeNanos = 0;
        EvalSet[] sets = EvalSet.values();
        int total = sets.length * options.captionsPerSet();
        int done = 0;
        List<SetResult> results = new ArrayList<>(sets.length);
        for (EvalSet set : sets) {
            List<String> captions = ShapesDataset.evaluationCaptions(set, options.captionsPerSet(), options.seed());
            List<CaptionResult> perCaption = new ArrayList<>(captions.size());
            for (int k = 0; k < captions.size(); k++) {
                perCaption.add(evaluateCaption(captions.get(k), captionSeed(options.seed(), set, k), options));
                progress.update("captions", ++done, total);
            }
            results.add(new SetResult(set, options.ns(), perCaption));
        }
        return new Run(results, (System.nanoTime() - t0) / 1e9, sampleNanos / 1e9, decodeNanos / 1e9,
                scoreNanos / 1e9, judgeNanos / 1e9);
    }

    /**
     * One caption: samples {@code options.maxN()} candidates with {@code seed}, decodes, scores and
     * judges each once, then reranks at every N.
     */
    public CaptionResult evaluateCaption(String caption, long seed, EvalOptions options) {
        long t0 = System.nanoTime();
        int[] text = pipeline.tokenize(caption);
        List<int[]> codes = pipeline.sample(text, options.maxN(), 0, seed, options.sampling(), Pipeline.Progress.NONE);
        long t1 = System.nanoTime();
        List<RgbImage> images = pipeline.decode(codes, Pipeline.Progress.NONE);
        long t2 = System.nanoTime();
        float[] scores = pipeline.score(text, images, Pipeline.Progress.NONE);
        long t3 = System.nanoTime();
        List<Verdict> verdicts = new ArrayList<>(images.size());
        for (RgbImage image : images) {
            verdicts.add(oracle.judge(image, caption));
        }
        long t4 = System.nanoTime();
        sampleNanos += t1 - t0;
        decodeNanos += t2 - t1;
        scoreNanos += t3 - t2;
        judgeNanos += t4 - t3;
        return rerank(caption, seed, scores, verdicts, options.ns());
    }

    /**
     * Reranking at every N from precomputed scores and verdicts: at each {@code n} the kept
     * candidate is the best-scoring of candidates 0..n-1 (ties: the lower index).
     *
     * @param scores reranker score per candidate, at least max(ns) of them
     * @param verdicts the oracle's verdict per candidate, as many as scores
     * @param ns strictly increasing reranking sizes
     */
    public static CaptionResult rerank(String caption, long seed, float[] scores, List<Verdict> verdicts,
                                       List<Integer> ns) {
        if (verdicts.size() != scores.length) {
            throw new IllegalArgumentException(scores.length + " scores but " + verdicts.size() + " verdicts");
        }
        if (ns.isEmpty() || ns.get(ns.size() - 1) > scores.length) {
            throw new IllegalArgumentException("ns " + ns + " need up to " + (ns.isEmpty() ? 0 : ns.get(ns.size() - 1))
                    + " candidates, got " + scores.length);
        }
        List<Pick> picks = new ArrayList<>(ns.size());
        int best = 0;
        int seen = 1;
        for (int n : ns) {
            // ns ascend, so the running best over 0..seen-1 extends to 0..n-1
            for (; seen < n; seen++) {
                if (scores[seen] > scores[best]) {
                    best = seen;
                }
            }
            Verdict v = verdicts.get(best);
            picks.add(new Pick(n, best, scores[best], v.matches(), v.reason()));
        }
        List<Float> allScores = new ArrayList<>(scores.length);
        List<Integer> matching = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            allScores.add(scores[i]);
            if (verdicts.get(i).matches()) {
                matching.add(i);
            }
        }
        return new CaptionResult(caption, seed, allScores, matching, picks);
    }

    /** The request seed of caption {@code index} of {@code set}: a well-mixed function of all three. */
    public static long captionSeed(long seed, EvalSet set, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z ^= (set.ordinal() + 1L) * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
