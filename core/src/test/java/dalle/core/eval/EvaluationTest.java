package dalle.core.eval;

import dalle.core.bundle.TestBundles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dalle.core.bundle.ModelBundle;
import dalle.core.data.shapes.EvalSet;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.sampling.SamplingParams;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole evaluation of a small random-weight bundle: files written, same numbers every run. */
class EvaluationTest {

    @TempDir static Path root;
    static Path bundleDir;
    static final EvalOptions OPTIONS = new EvalOptions(2, List.of(1, 2, 4), 5, SamplingParams.DEFAULT, 8);

    @BeforeAll
    static void bundle() throws Exception {
        bundleDir = root.resolve("bundle");
        TestBundles.write(bundleDir);
    }

    static JsonObject withoutTimings(Path json) throws Exception {
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        o.remove("timings_s");
        return o;
    }

    @Test
    void writesMarkdownJsonAndPlotWithEveryNumberAndDetail() throws Exception {
        List<String> progress = new ArrayList<>();
        EvalReport report;
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            report = Evaluation.run(bundle, OPTIONS,
                    (stage, done, total) -> progress.add(stage + " " + done + "/" + total));
        }
        List<Path> files = EvalReportWriter.write(report, root.resolve("out"));

        assertEquals(List.of("captions 1/8", "captions 2/8", "captions 3/8", "captions 4/8", "captions 5/8",
                "captions 6/8", "captions 7/8", "captions 8/8", "reconstruct 8/8"), progress);
        assertEquals(List.of("eval.md", "eval.json", "accuracy-vs-n.png"),
                files.stream().map(p -> p.getFileName().toString()).toList());

        String md = Files.readString(root.resolve("out/eval.md"));
        assertTrue(md.contains("| caption set | N=1 | N=2 | N=4 | oracle-best@4 | raw candidate accuracy |"), md);
        for (EvalSet set : EvalSet.values()) {
            assertTrue(md.contains("| " + EvalReportWriter.label(set) + " |"), set + " row in\n" + md);
        }
        assertTrue(md.contains("codebook perplexity"), md);
        assertTrue(md.contains(report.bundleVersion()), md);

        JsonObject json = JsonParser.parseString(Files.readString(files.get(1))).getAsJsonObject();
        assertEquals(report.bundleVersion(), json.get("bundle_version").getAsString());
        assertEquals(5, json.get("seed").getAsLong());
        assertEquals(2, json.get("captions_per_set").getAsInt());
        JsonArray sets = json.getAsJsonArray("caption_match");
        assertEquals(4, sets.size());
        JsonObject relations = sets.get(2).getAsJsonObject();
        assertEquals("RELATION_SEEN", relations.get("set").getAsString());
        assertEquals(3, relations.getAsJsonArray("by_n").size());
        JsonObject detail = relations.getAsJsonArray("details").get(1).getAsJsonObject();
        assertEquals(ShapesDataset.evaluationCaptions(EvalSet.RELATION_SEEN, 2, 5).get(1),
                detail.get("caption").getAsString());
        assertEquals(CaptionMatchEvaluator.captionSeed(5, EvalSet.RELATION_SEEN, 1), detail.get("seed").getAsLong());
        assertEquals(4, detail.getAsJsonArray("scores").size());
        JsonArray top1 = detail.getAsJsonArray("top1");
        assertEquals(3, top1.size());
        for (int i = 0; i < 3; i++) {
            JsonObject pick = top1.get(i).getAsJsonObject();
            assertEquals(OPTIONS.ns().get(i), pick.get("n").getAsInt());
            assertTrue(pick.get("candidate").getAsInt() < pick.get("n").getAsInt());
            assertTrue(!pick.get("reason").getAsString().isBlank());
        }
        JsonObject rec = json.getAsJsonArray("reconstruction").get(0).getAsJsonObject();
        assertEquals(8, rec.get("images").getAsInt());
        assertEquals(32, rec.get("resolution").getAsInt());
        assertEquals(64, rec.get("codebook_size").getAsInt());
        assertTrue(json.getAsJsonObject("timings_s").get("caption_match").getAsDouble() > 0);

        BufferedImage png = ImageIO.read(files.get(2).toFile());
        assertEquals(900, png.getWidth());
        assertEquals(480, png.getHeight());
    }

    @Test
    void theSameBundleAndSeedGiveTheSameNumbers() throws Exception {
        List<JsonObject> runs = new ArrayList<>();
        for (long seed : new long[] {5, 5, 6}) {
            EvalOptions options = new EvalOptions(2, List.of(1, 2, 4), seed, SamplingParams.DEFAULT, 8);
            try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
                EvalReport report = Evaluation.run(bundle, options, (stage, done, total) -> {});
                runs.add(withoutTimings(EvalReportWriter.write(report, root.resolve("run" + runs.size())).get(1)));
            }
        }
        assertEquals(runs.get(0), runs.get(1), "same bundle and seed, same JSON apart from timings");
        assertNotEquals(runs.get(0), runs.get(2), "another seed, other candidates");
    }
}
