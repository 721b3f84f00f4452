package dalle.core.eval.emoji;

import dalle.core.bundle.ModelBundle;
import dalle.core.data.emoji.EmojiPreparation.Entry;
import dalle.core.data.emoji.EmojiSplit;
import dalle.core.data.emoji.EmojiVendor;
import dalle.core.data.emoji.PreparedEmoji;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.eval.ReconstructionEvaluator;
import dalle.core.eval.emoji.EmojiEvalReport.CaptionResult;
import dalle.core.eval.emoji.EmojiEvalReport.Ceiling;
import dalle.core.eval.emoji.EmojiEvalReport.SetResult;
import dalle.core.image.RgbImage;
import dalle.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Caption match on emoji, judged without any trained model: for each caption of each {@link EmojiEvalSet}, sample
 * max N candidates once, decode and rerank them, and let the {@link EmojiJudge} rank the caption's true rendering
 * among every picture of the caption's vendor for each candidate. A candidate is a top-k hit when the truth is among
 * its k nearest pictures; at each N the kept candidate is the reranker's best of the first N (ties: the lower
 * index), as in the shapes evaluation. Also: the judge's ceiling (the other vendor's rendering judged the same way)
 * and the dVAE's PSNR on held-out and on as many training pictures.
 *
 * <p>The same bundle, data and options give the same numbers (timings aside).
 */
public final class EmojiEvaluation {

    private final ModelBundle bundle;
    private final PreparedEmoji data;
    private final EmojiEvalOptions options;
    private final Map<EmojiVendor, List<Entry>> byVendor = new EnumMap<>(EmojiVendor.class);
    private final Map<EmojiVendor, Map<String, Integer>> indexOf = new EnumMap<>(EmojiVendor.class);
    private final Map<EmojiVendor, List<RgbImage>> images = new EnumMap<>(EmojiVendor.class);
    private final Map<EmojiVendor, EmojiJudge> judges = new EnumMap<>(EmojiVendor.class);

    private EmojiEvaluation(ModelBundle bundle, PreparedEmoji data, EmojiEvalOptions options) {
        this.bundle = bundle;
        this.data = data;
        this.options = options;
    }

    /**
     * @param progress told {@code ("load", done, total)} per vendor, {@code ("captions", done, total)} per caption,
     *     then {@code ("reconstruct", done, total)} per batch
     * @throws IllegalArgumentException when the data's pictures are not at the bundle's resolution
     */
    public static EmojiEvalReport run(ModelBundle bundle, PreparedEmoji data, EmojiEvalOptions options,
                                      Pipeline.Progress progress) {
        return new EmojiEvaluation(bundle, data, options).run(progress);
    }

    private EmojiEvalReport run(Pipeline.Progress progress) {
        long t0 = System.nanoTime();
        List<EmojiVendor> vendors = data.vendors();
        int done = 0;
        for (EmojiVendor v : vendors) {
            List<Entry> entries = data.pictures().stream().filter(e -> e.vendor().equals(v.id())).toList();
            List<RgbImage> pictures = new ArrayList<>(entries.size());
            Map<String, Integer> index = new HashMap<>();
            for (Entry e : entries) {
                index.put(e.code(), pictures.size());
                pictures.add(data.image(e));
            }
            int size = bundle.dvae().config().imageSize();
            if (pictures.get(0).width() != size) {
                throw new IllegalArgumentException("the data's pictures are " + pictures.get(0).width() + "x"
                        + pictures.get(0).height() + ", the bundle's dVAE takes " + size + "x" + size);
            }
            byVendor.put(v, entries);
            indexOf.put(v, index);
            images.put(v, pictures);
            judges.put(v, new EmojiJudge(pictures, options.judgeCells()));
            progress.update("load", ++done, vendors.size());
        }
        List<Ceiling> ceilings = new ArrayList<>();
        for (EmojiVendor reference : vendors) {
            if (other(reference, vendors).isEmpty()) {
                continue;
            }
            EmojiVendor other = other(reference, vendors).get();
            int n = 0;
            int top1 = 0;
            int top5 = 0;
            for (Entry e : byVendor.get(other)) {
                int rank = ceilingRank(reference, other, e.code());
                if (rank >= 0) {
                    n++;
                    top1 += rank < 1 ? 1 : 0;
                    top5 += rank < 5 ? 1 : 0;
                }
            }
            ceilings.add(new Ceiling(reference.id(), n, top1 / (double) n, top5 / (double) n));
        }
        double loadSeconds = (System.nanoTime() - t0) / 1e9;

        long t1 = System.nanoTime();
        Pipeline pipeline = new Pipeline(bundle);
        Map<EmojiEvalSet, List<Entry>> captions = new EnumMap<>(EmojiEvalSet.class);
        int total = 0;
        for (EmojiEvalSet set : EmojiEvalSet.values()) {
            List<Entry> chosen = new ArrayList<>();
            for (EmojiVendor v : vendors) {
                chosen.addAll(choose(set, v));
            }
            captions.put(set, chosen);
            total += chosen.size();
        }
        long[] stageNanos = new long[3];
        List<SetResult> sets = new ArrayList<>();
        done = 0;
        for (EmojiEvalSet set : EmojiEvalSet.values()) {
            List<CaptionResult> results = new ArrayList<>();
            List<Entry> chosen = captions.get(set);
            for (int k = 0; k < chosen.size(); k++) {
                results.add(evaluate(pipeline, chosen.get(k), captionSeed(options.seed(), set, k), vendors, stageNanos));
                progress.update("captions", ++done, total);
            }
            if (!results.isEmpty()) {
                sets.add(new SetResult(set, options.ns(), results));
            }
        }
        double matchSeconds = (System.nanoTime() - t1) / 1e9;

        long t2 = System.nanoTime();
        List<Reconstruction> reconstructions = new ArrayList<>();
        if (options.reconstruction()) {
            List<Entry> heldOut = data.pictures().stream().filter(PreparedEmoji::heldOut).toList();
            List<Entry> train = data.pictures().stream().filter(e -> !PreparedEmoji.heldOut(e)).limit(heldOut.size())
                    .toList();
            ReconstructionEvaluator rec = new ReconstructionEvaluator(bundle.dvae(), bundle.manager());
            reconstructions.add(rec.evaluate(heldOut.stream().map(this::image).toList(),
                    "emoji held-out pictures, all " + heldOut.size(), progress));
            reconstructions.add(rec.evaluate(train.stream().map(this::image).toList(),
                    "emoji training pictures, the first " + train.size() + " in training order", progress));
        }
        double recSeconds = (System.nanoTime() - t2) / 1e9;
        List<String> packages = data.index().packages().stream()
                .map(p -> p.get("package") + "@" + p.get("version") + " " + p.get("integrity")).toList();
        return new EmojiEvalReport(bundle.version(), packages, options, ceilings, sets, reconstructions,
                new EmojiEvalReport.Timings(loadSeconds, matchSeconds, stageNanos[0] / 1e9, stageNanos[1] / 1e9,
                        stageNanos[2] / 1e9, recSeconds));
    }

    /** The captions of {@code set} drawn by {@code vendor}: a seeded sample of its pictures, at most captionsPerVendor. */
    private List<Entry> choose(EmojiEvalSet set, EmojiVendor vendor) {
        Map<String, String> heldOutPairs = data.index().heldOutPairs();
        List<Entry> pool = byVendor.get(vendor).stream().filter(e -> switch (set) {
            case SEEN -> PreparedEmoji.kind(e) == EmojiSplit.Kind.TRAIN;
            case SEEN_PAIR -> PreparedEmoji.kind(e) == EmojiSplit.Kind.TRAIN && e.tones().size() == 1
                    && heldOutPairs.containsKey(e.name());
            case HELD_OUT_PAIR -> PreparedEmoji.kind(e) == EmojiSplit.Kind.HELD_OUT_PAIR;
            case HELD_OUT_NAME -> PreparedEmoji.kind(e) == EmojiSplit.Kind.HELD_OUT_NAME && e.tones().isEmpty();
        }).sorted(Comparator.comparing(Entry::code)).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
        SplittableRandom rng = new SplittableRandom(captionSeed(options.seed(), set, -1 - vendor.ordinal()));
        for (int i = pool.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Entry tmp = pool.get(i);
            pool.set(i, pool.get(j));
            pool.set(j, tmp);
        }
        return pool.subList(0, Math.min(options.captionsPerVendor(), pool.size()));
    }

    private CaptionResult evaluate(Pipeline pipeline, Entry truth, long seed, List<EmojiVendor> vendors,
                                   long[] stageNanos) {
        EmojiVendor vendor = EmojiVendor.of(truth.vendor());
        long a = System.nanoTime();
        int[] text = pipeline.tokenize(truth.caption());
        List<int[]> codes = pipeline.sample(text, options.maxN(), 0, seed, options.sampling(), Pipeline.Progress.NONE);
        long b = System.nanoTime();
        List<RgbImage> candidates = pipeline.decode(codes, Pipeline.Progress.NONE);
        long c = System.nanoTime();
        float[] scores = pipeline.score(text, candidates, Pipeline.Progress.NONE);
        long d = System.nanoTime();
        stageNanos[0] += b - a;
        stageNanos[1] += c - b;
        stageNanos[2] += d - c;
        EmojiJudge judge = judges.get(vendor);
        int truthIndex = indexOf.get(vendor).get(truth.code());
        List<Integer> ranks = new ArrayList<>(candidates.size());
        for (RgbImage im : candidates) {
            ranks.add(judge.rank(im, truthIndex));
        }
        List<Integer> picks = new ArrayList<>();
        int best = 0;
        int seen = 1;
        for (int n : options.ns()) {
            for (; seen < n; seen++) {
                if (scores[seen] > scores[best]) {
                    best = seen;
                }
            }
            picks.add(best);
        }
        List<Float> scoreList = new ArrayList<>(scores.length);
        for (float s : scores) {
            scoreList.add(s);
        }
        int ceiling = other(vendor, vendors).map(o -> ceilingRank(vendor, o, truth.code())).orElse(-1);
        return new CaptionResult(truth.caption(), vendor.id(), truth.code(), seed, ranks, scoreList, picks, ceiling);
    }

    /** The rank of {@code code} in {@code reference}'s set when {@code other}'s rendering of it is judged; -1 if either lacks it. */
    private int ceilingRank(EmojiVendor reference, EmojiVendor other, String code) {
        Integer truth = indexOf.get(reference).get(code);
        Integer drawing = indexOf.get(other).get(code);
        if (truth == null || drawing == null) {
            return -1;
        }
        return judges.get(reference).rank(images.get(other).get(drawing), truth);
    }

    private RgbImage image(Entry e) {
        EmojiVendor v = EmojiVendor.of(e.vendor());
        return images.get(v).get(indexOf.get(v).get(e.code()));
    }

    /** The other vendor of a two-vendor data set; empty when the data holds one vendor. */
    private static java.util.Optional<EmojiVendor> other(EmojiVendor v, List<EmojiVendor> vendors) {
        return vendors.stream().filter(o -> o != v).findFirst();
    }

    /** The request seed of caption {@code index} of {@code set}: a well-mixed function of all three. */
    static long captionSeed(long seed, EmojiEvalSet set, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z ^= (set.ordinal() + 101L) * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
