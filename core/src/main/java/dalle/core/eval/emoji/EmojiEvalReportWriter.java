package dalle.core.eval.emoji;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.eval.EvalReportWriter;
import dalle.core.eval.emoji.EmojiEvalReport.CaptionResult;
import dalle.core.eval.emoji.EmojiEvalReport.Ceiling;
import dalle.core.eval.emoji.EmojiEvalReport.SetResult;
import dalle.core.io.Checkpoints;
import dalle.core.plot.LineChart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An {@link EmojiEvalReport} as Markdown ({@value #MARKDOWN}), JSON with every number and per-caption details
 * ({@value #JSON}) and a plot of the top-5 hit rate against N ({@value #PLOT}); the same file names as the shapes
 * evaluation's. Only the Markdown's last line ({@code Time: ...}) and the JSON's {@code timings_s} differ between
 * two runs of the same bundle, data and options.
 */
public final class EmojiEvalReportWriter {

    public static final String MARKDOWN = "eval.md";
    public static final String JSON = "eval.json";
    public static final String PLOT = "accuracy-vs-n.png";

    private EmojiEvalReportWriter() {}

    /** Writes the three files into {@code dir} (created if needed) and returns their paths. */
    public static List<Path> write(EmojiEvalReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path md = dir.resolve(MARKDOWN);
        Path json = dir.resolve(JSON);
        Path png = dir.resolve(PLOT);
        Files.writeString(md, markdown(report));
        Files.writeString(json, Checkpoints.GSON.toJson(json(report)) + "\n");
        Files.write(png, plot(report));
        return List.of(md, json, png);
    }

    /** The summary: the judge's ceiling, a table of top-1 / top-5 hit rates per set and N, the dVAE lines, timings. */
    public static String markdown(EmojiEvalReport r) {
        EmojiEvalOptions o = r.options();
        List<Integer> ns = o.ns();
        StringBuilder md = new StringBuilder();
        md.append("## Evaluation of bundle `").append(r.bundleVersion()).append("` on emoji\n\n");
        md.append("Data: ").append(String.join("; ", r.data())).append(".\n\n");
        md.append(String.format(Locale.ROOT, "Seed %d, up to %d captions per set and vendor; %d candidates sampled once"
                        + " per caption (%s), the first N reranked. The judge ranks the caption's true rendering among"
                        + " all pictures of the caption's vendor by distance in %dx%d RGB; a cell is the share of"
                        + " captions whose kept image puts the truth first (top-1) / among the 5 nearest (top-5).%n%n",
                o.seed(), o.captionsPerVendor(), o.maxN(), EvalReportWriter.sampling(o.sampling()), o.judgeCells(), o.judgeCells()));
        for (Ceiling c : r.ceilings()) {
            md.append(String.format(Locale.ROOT, "Judge ceiling: the other vendor's rendering of each of %d pictures,"
                            + " judged against the %s set: top-1 %s, top-5 %s.%n", c.pictures(), c.reference(),
                    percent(c.top1()), percent(c.top5())));
        }
        md.append("\n| caption set | captions | ceiling |");
        ns.forEach(n -> md.append(" N=").append(n).append(" |"));
        md.append(" best of ").append(o.maxN()).append(" | raw |\n|---|---:|---:|");
        md.append("---:|".repeat(ns.size() + 2)).append('\n');
        for (SetResult s : r.sets()) {
            md.append("| ").append(s.set().label()).append(" | ").append(s.captions().size()).append(" | ")
                    .append(pair(s.ceilingRate(1), s.ceilingRate(5))).append(" |");
            for (int i = 0; i < ns.size(); i++) {
                md.append(' ').append(pair(s.hitRate(i, 1), s.hitRate(i, 5))).append(" |");
            }
            md.append(' ').append(pair(s.bestOfRate(ns.size() - 1, 1), s.bestOfRate(ns.size() - 1, 5))).append(" | ")
                    .append(pair(s.rawRate(1), s.rawRate(5))).append(" |\n");
        }
        md.append("\nCells are top-1 / top-5. Ceiling: the other vendor's rendering of the same caption as the"
                + " candidate (a faithful drawing in another hand). Best of N: some candidate among the first N hits"
                + " (a perfect reranker). Raw: the share of all candidates that hit (the prior alone).\n\n");
        for (Reconstruction rec : r.reconstructions()) {
            md.append(EvalReportWriter.reconstruction(rec));
        }
        EmojiEvalReport.Timings t = r.timings();
        md.append(String.format(Locale.ROOT, "Time: loading %.1f s, caption match %.1f s (sampling %.1f, decoding %.1f,"
                        + " reranking %.1f), reconstruction %.1f s.%n", t.load(), t.captionMatch(), t.sample(),
                t.decode(), t.score(), t.reconstruction()));
        return md.toString();
    }

    /** Every number, the options and the per-caption details. */
    public static JsonObject json(EmojiEvalReport r) {
        EmojiEvalOptions o = r.options();
        JsonObject root = new JsonObject();
        root.addProperty("bundle_version", r.bundleVersion());
        JsonArray data = new JsonArray();
        r.data().forEach(data::add);
        root.add("data", data);
        root.addProperty("seed", o.seed());
        root.addProperty("captions_per_vendor", o.captionsPerVendor());
        root.addProperty("judge_cells", o.judgeCells());
        JsonArray ns = new JsonArray();
        o.ns().forEach(ns::add);
        root.add("ns", ns);
        JsonObject sampling = new JsonObject();
        sampling.addProperty("temperature", o.sampling().temperature());
        sampling.addProperty("top_k", o.sampling().topK());
        sampling.addProperty("top_p", o.sampling().topP());
        sampling.addProperty("guidance_scale", o.sampling().guidanceScale());
        root.add("sampling", sampling);
        JsonArray ceilings = new JsonArray();
        for (Ceiling c : r.ceilings()) {
            JsonObject co = new JsonObject();
            co.addProperty("reference", c.reference());
            co.addProperty("pictures", c.pictures());
            co.add("top1", EvalReportWriter.num(c.top1()));
            co.add("top5", EvalReportWriter.num(c.top5()));
            ceilings.add(co);
        }
        root.add("judge_ceiling", ceilings);
        JsonArray sets = new JsonArray();
        for (SetResult s : r.sets()) {
            JsonObject so = new JsonObject();
            so.addProperty("set", s.set().name());
            so.addProperty("label", s.set().label());
            so.addProperty("captions", s.captions().size());
            so.add("ceiling_top1", EvalReportWriter.num(s.ceilingRate(1)));
            so.add("ceiling_top5", EvalReportWriter.num(s.ceilingRate(5)));
            JsonArray byN = new JsonArray();
            for (int i = 0; i < s.ns().size(); i++) {
                JsonObject e = new JsonObject();
                e.addProperty("n", s.ns().get(i));
                e.add("top1", EvalReportWriter.num(s.hitRate(i, 1)));
                e.add("top5", EvalReportWriter.num(s.hitRate(i, 5)));
                e.add("best_of_top1", EvalReportWriter.num(s.bestOfRate(i, 1)));
                e.add("best_of_top5", EvalReportWriter.num(s.bestOfRate(i, 5)));
                byN.add(e);
            }
            so.add("by_n", byN);
            so.add("raw_top1", EvalReportWriter.num(s.rawRate(1)));
            so.add("raw_top5", EvalReportWriter.num(s.rawRate(5)));
            JsonArray details = new JsonArray();
            for (CaptionResult c : s.captions()) {
                JsonObject co = new JsonObject();
                co.addProperty("caption", c.caption());
                co.addProperty("vendor", c.vendor());
                co.addProperty("code", c.code());
                co.addProperty("seed", c.seed());
                co.addProperty("ceiling_rank", c.ceilingRank());
                JsonArray picks = new JsonArray();
                for (int i = 0; i < c.picks().size(); i++) {
                    JsonObject p = new JsonObject();
                    p.addProperty("n", s.ns().get(i));
                    p.addProperty("candidate", c.picks().get(i));
                    p.addProperty("rank", c.ranks().get(c.picks().get(i)));
                    picks.add(p);
                }
                co.add("kept", picks);
                JsonArray ranks = new JsonArray();
                c.ranks().forEach(ranks::add);
                co.add("ranks", ranks);
                JsonArray scores = new JsonArray();
                c.scores().forEach(v -> scores.add(EvalReportWriter.num(v)));
                co.add("scores", scores);
                details.add(co);
            }
            so.add("details", details);
            sets.add(so);
        }
        root.add("caption_match", sets);
        root.add("reconstruction", EvalReportWriter.reconstructions(r.reconstructions()));
        EmojiEvalReport.Timings t = r.timings();
        JsonObject timings = new JsonObject();
        timings.add("load", EvalReportWriter.num(t.load()));
        timings.add("caption_match", EvalReportWriter.num(t.captionMatch()));
        timings.add("sample", EvalReportWriter.num(t.sample()));
        timings.add("decode", EvalReportWriter.num(t.decode()));
        timings.add("score", EvalReportWriter.num(t.score()));
        timings.add("reconstruction", EvalReportWriter.num(t.reconstruction()));
        root.add("timings_s", timings);
        return root;
    }

    /** Top-5 hit rate (%) against N on a log2 axis, one line per caption set, with each set's ceiling in its label. */
    public static byte[] plot(EmojiEvalReport r) {
        double[] x = r.options().ns().stream().mapToDouble(Integer::doubleValue).toArray();
        List<LineChart.Series> series = new ArrayList<>();
        for (SetResult s : r.sets()) {
            double[] y = new double[x.length];
            for (int i = 0; i < y.length; i++) {
                y[i] = 100 * s.hitRate(i, 5);
            }
            series.add(new LineChart.Series(s.set().label() + " (ceiling " + percent(s.ceilingRate(5)) + ")", x, y,
                    LineChart.PALETTE.get(series.size() % LineChart.PALETTE.size()), LineChart.Stroke.SOLID_WITH_POINTS));
        }
        LineChart chart = new LineChart("Emoji caption match vs reranked candidates — " + r.bundleVersion(),
                "N, candidates reranked (log2 scale)", LineChart.XScale.LOG2, true, 900, 480);
        return chart.png(List.of(LineChart.Panel.fixed("judge top-5 hit, % of captions", 0, 100, series)));
    }

    private static String pair(double top1, double top5) {
        return percent(top1) + " / " + percent(top5);
    }

    private static String percent(double fraction) {
        return Double.isNaN(fraction) ? "—" : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }
}
