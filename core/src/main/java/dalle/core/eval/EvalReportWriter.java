package dalle.core.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dalle.core.data.shapes.EvalSet;
import dalle.core.eval.EvalReport.CaptionResult;
import dalle.core.eval.EvalReport.Pick;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.eval.EvalReport.SetResult;
import dalle.core.io.Checkpoints;
import dalle.core.plot.LineChart;
import dalle.core.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An {@link EvalReport} as a Markdown summary ({@value #MARKDOWN}), JSON with every number and the
 * per-caption details ({@value #JSON}), and a plot of accuracy against N ({@value #PLOT}, the
 * analogue of the paper's Fig. 9c).
 *
 * <p>JSON keys are snake_case; timings sit under {@code timings_s} alone, so two runs of the same
 * bundle and seed give JSON that is equal apart from that key. Non-finite numbers (the best PSNR
 * when an image is reconstructed exactly) are written as {@code null}.
 */
public final class EvalReportWriter {

    public static final String MARKDOWN = "eval.md";
    public static final String JSON = "eval.json";
    public static final String PLOT = "accuracy-vs-n.png";

    private EvalReportWriter() {}

    /** Writes the three files into {@code dir} (created if needed) and returns their paths. */
    public static List<Path> write(EvalReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path md = dir.resolve(MARKDOWN);
        Path json = dir.resolve(JSON);
        Path png = dir.resolve(PLOT);
        Files.writeString(md, markdown(report));
        Files.writeString(json, Checkpoints.GSON.toJson(json(report)) + "\n");
        Files.write(png, plot(report));
        return List.of(md, json, png);
    }

    /** How a caption set reads in tables and legends. */
    public static String label(EvalSet set) {
        return switch (set) {
            case SINGLE_SEEN -> "one object, seen pair";
            case SINGLE_HELD_OUT -> "one object, held-out pair";
            case RELATION_SEEN -> "two objects + relation, seen";
            case RELATION_HELD_OUT -> "two objects + relation, held-out";
        };
    }

    /** The summary: a table of accuracy per caption set and N, then the dVAE lines and timings. */
    public static String markdown(EvalReport r) {
        EvalOptions o = r.options();
        List<Integer> ns = o.ns();
        int maxN = o.maxN();
        StringBuilder md = new StringBuilder();
        md.append("## Evaluation of bundle `").append(r.bundleVersion()).append("`\n\n");
        md.append(String.format(Locale.ROOT, "Seed %d, %d captions per set; %d candidates sampled once per caption "
                + "(%s), the first N reranked. A cell is the share of captions whose kept image the oracle "
                + "accepts.\n\n",
                o.seed(), o.captionsPerSet(), maxN, sampling(o.sampling())));
        md.append("| caption set |");
        ns.forEach(n -> md.append(" N=").append(n).append(" |"));
        md.append(" oracle-best@").append(maxN).append(" | raw candidate accuracy |\n|---|");
        md.append("---:|".repeat(ns.size() + 2)).append('\n');
        for (SetResult s : r.sets()) {
            md.append("| ").append(label(s.set())).append(" |");
            for (int i = 0; i < ns.size(); i++) {
                md.append(' ').append(percent(s.accuracy(i))).append(" |");
            }
            md.append(' ').append(percent(s.oracleBest(ns.size() - 1))).append(" | ")
                    .append(percent(s.rawAccuracy())).append(" |\n");
        }
        md.append("\noracle-best@N: some candidate among the first N matches (a perfect reranker). "
                + "Raw candidate accuracy: the share of all candidates that match (the prior alone).\n\n");
        for (Reconstruction rec : r.reconstructions()) {
            md.append(reconstruction(rec));
        }
        EvalReport.Timings t = r.timings();
        md.append(String.format(Locale.ROOT, "Time: caption match %.1f s (sampling %.1f, decoding %.1f, "
                + "reranking %.1f, oracle %.1f), reconstruction %.1f s.\n", t.captionMatch(), t.sample(), t.decode(),
                t.score(), t.judge(), t.reconstruction()));
        return md.toString();
    }

    /** Every number, the options and the per-caption details. */
    public static JsonObject json(EvalReport r) {
        EvalOptions o = r.options();
        JsonObject root = new JsonObject();
        root.addProperty("bundle_version", r.bundleVersion());
        root.addProperty("seed", o.seed());
        root.addProperty("captions_per_set", o.captionsPerSet());
        root.add("ns", ints(o.ns()));
        JsonObject sampling = new JsonObject();
        sampling.addProperty("temperature", o.sampling().temperature());
        sampling.addProperty("top_k", o.sampling().topK());
        sampling.addProperty("top_p", o.sampling().topP());
        sampling.addProperty("guidance_scale", o.sampling().guidanceScale());
        root.add("sampling", sampling);

        JsonArray sets = new JsonArray();
        for (SetResult s : r.sets()) {
            JsonObject so = new JsonObject();
            so.addProperty("set", s.set().name());
            so.addProperty("label", label(s.set()));
            so.addProperty("captions", s.captions().size());
            JsonArray byN = new JsonArray();
            for (int i = 0; i < s.ns().size(); i++) {
                JsonObject e = new JsonObject();
                int n = s.ns().get(i);
                int index = i;
                e.addProperty("n", n);
                e.addProperty("accuracy", s.accuracy(i));
                e.addProperty("matched", s.captions().stream().filter(c -> c.picks().get(index).matches()).count());
                e.addProperty("oracle_best", s.oracleBest(i));
                byN.add(e);
            }
            so.add("by_n", byN);
            so.addProperty("raw_candidate_accuracy", s.rawAccuracy());
            JsonArray details = new JsonArray();
            for (CaptionResult c : s.captions()) {
                details.add(caption(c));
            }
            so.add("details", details);
            sets.add(so);
        }
        root.add("caption_match", sets);

        root.add("reconstruction", reconstructions(r.reconstructions()));

        EvalReport.Timings t = r.timings();
        JsonObject timings = new JsonObject();
        timings.add("caption_match", num(t.captionMatch()));
        timings.add("sample", num(t.sample()));
        timings.add("decode", num(t.decode()));
        timings.add("score", num(t.score()));
        timings.add("judge", num(t.judge()));
        timings.add("reconstruction", num(t.reconstruction()));
        root.add("timings_s", timings);
        return root;
    }

    /** Accuracy (%) against N on a log2 axis, one line per caption set. */
    public static byte[] plot(EvalReport r) {
        double[] x = r.options().ns().stream().mapToDouble(Integer::doubleValue).toArray();
        List<LineChart.Series> series = new ArrayList<>();
        for (SetResult s : r.sets()) {
            double[] y = new double[x.length];
            for (int i = 0; i < y.length; i++) {
                y[i] = 100 * s.accuracy(i);
            }
            series.add(new LineChart.Series(label(s.set()), x, y,
                    LineChart.PALETTE.get(series.size() % LineChart.PALETTE.size()), LineChart.Stroke.SOLID_WITH_POINTS));
        }
        LineChart chart = new LineChart("Caption match vs reranked candidates — " + r.bundleVersion(),
                "N, candidates reranked (log2 scale)", LineChart.XScale.LOG2, true, 900, 480);
        return chart.png(List.of(LineChart.Panel.fixed("top-1 image matches caption, % of captions", 0, 100, series)));
    }

    private static JsonObject caption(CaptionResult c) {
        JsonObject co = new JsonObject();
        co.addProperty("caption", c.caption());
        co.addProperty("seed", c.seed());
        co.add("matching_candidates", ints(c.matching()));
        JsonArray picks = new JsonArray();
        for (Pick p : c.picks()) {
            JsonObject po = new JsonObject();
            po.addProperty("n", p.n());
            po.addProperty("candidate", p.candidate());
            po.add("score", num(p.score()));
            po.addProperty("matches", p.matches());
            po.addProperty("reason", p.reason());
            picks.add(po);
        }
        co.add("top1", picks);
        JsonArray scores = new JsonArray();
        c.scores().forEach(v -> scores.add(num(v)));
        co.add("scores", scores);
        return co;
    }

    private static JsonArray ints(List<Integer> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }

    /** The report's paragraph on one dVAE reconstruction measurement (shared by the emoji report). */
    public static String reconstruction(Reconstruction rec) {
        return String.format(Locale.ROOT, "dVAE reconstruction of %d images (%s, %dx%d): PSNR %.2f dB mean "
                + "(worst %.2f, best %s)%s; codebook perplexity %.1f of K = %d, %d distinct codes used (%.1f%%) "
                + "over %d cells.\n\n", rec.images(), rec.source(), rec.resolution(), rec.resolution(),
                rec.meanPsnrDb(), rec.minPsnrDb(), db(rec.maxPsnrDb()),
                rec.exact() > 0 ? ", " + rec.exact() + " exact" : "", rec.perplexity(), rec.codebookSize(),
                rec.distinctCodes(), 100.0 * rec.distinctCodes() / rec.codebookSize(), rec.cells());
    }

    /** The JSON array of dVAE reconstruction measurements (shared by the emoji report). */
    public static JsonArray reconstructions(List<Reconstruction> all) {
        JsonArray recs = new JsonArray();
        for (Reconstruction rec : all) {
            JsonObject ro = new JsonObject();
            ro.addProperty("source", rec.source());
            ro.addProperty("images", rec.images());
            ro.addProperty("resolution", rec.resolution());
            ro.add("mean_psnr_db", num(rec.meanPsnrDb()));
            ro.add("min_psnr_db", num(rec.minPsnrDb()));
            ro.add("max_psnr_db", num(rec.maxPsnrDb()));
            ro.addProperty("exact", rec.exact());
            ro.add("perplexity", num(rec.perplexity()));
            ro.addProperty("distinct_codes", rec.distinctCodes());
            ro.addProperty("codebook_size", rec.codebookSize());
            ro.addProperty("cells", rec.cells());
            recs.add(ro);
        }
        return recs;
    }

    /** A JSON number, null where it is not finite. */
    public static JsonElement num(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }

    private static JsonElement num(float v) {
        return Float.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    /** Decibels to two places; ∞ for an exact reconstruction. */
    public static String db(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "∞";
    }

    /** The sampling settings in words. */
    public static String sampling(SamplingParams p) {
        return String.format(Locale.ROOT, "temperature %s, top-k %s, top-p %s, guidance %s", p.temperature(),
                p.topK() == 0 ? "off" : Integer.toString(p.topK()), p.topP() == 1f ? "off" : Float.toString(p.topP()),
                p.guidanceScale() == 1f ? "off" : Float.toString(p.guidanceScale()));
    }
}
