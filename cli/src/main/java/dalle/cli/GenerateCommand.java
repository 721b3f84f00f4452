package dalle.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.ContactSheet;
import dalle.core.image.RgbImage;
import dalle.core.io.Checkpoints;
import dalle.core.pipeline.Candidate;
import dalle.core.pipeline.Generation;
import dalle.core.pipeline.GenerationRequest;
import dalle.core.pipeline.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dalle generate "<caption>"}: the in-process pipeline, written to a folder. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate images for a caption: sample N candidates, decode, rerank, keep the best k.",
                "Writes DIR/top-1.png .. top-K.png, DIR/sheet.png (all candidates, best first) and DIR/scores.json."})
final class GenerateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CAPTION", description = "What to draw, e.g. \"a small red circle\".")
    String caption;

    @Option(names = {"-n", "--candidates"}, defaultValue = "32", description = "Candidates to sample, N (default ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = {"-k", "--top"}, defaultValue = "4", description = "Images to keep after reranking (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = {"-s", "--seed"}, defaultValue = "0", description = "Seed; same seed, same images (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--out"}, defaultValue = "out", description = "Output folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Mixin SamplingOptions sampling;

    @Mixin ModelOption model;

    @Override
    public Integer call() throws Exception {
        // Validate before loading anything: a bad request costs nothing.
        GenerationRequest request = new GenerationRequest(caption, candidates, Math.min(top, candidates), seed,
                sampling.params());
        if (top > candidates) {
            System.err.printf("dalle: --top %d is more than --candidates %d; keeping all %d%n", top, candidates, candidates);
        }
        Path dir = model.resolve();
        long t0 = System.nanoTime();
        try (ModelBundle bundle = ModelBundle.load(dir)) {
            System.err.printf("model %s loaded from %s in %.1f s%n", bundle.version(), dir, (System.nanoTime() - t0) / 1e9);
            Pipeline pipeline = new Pipeline(bundle);
            ProgressBar bar = new ProgressBar(System.err);
            Generation g = pipeline.generate(request, bar::update);
            bar.finish();
            write(g);
            Generation.Timings t = g.timings();
            System.err.printf("sampled %d candidates in %.2f s, decoded in %.2f s, reranked in %.2f s%n",
                    candidates, t.sampleMs() / 1e3, t.decodeMs() / 1e3, t.rerankMs() / 1e3);
            for (int i = 0; i < g.topK(); i++) {
                Candidate c = g.ranked().get(i);
                System.out.printf("%s  score %.4f  (candidate %d)%n", out.resolve("top-" + (i + 1) + ".png"),
                        c.score(), c.index());
            }
            System.out.println(out.resolve("sheet.png") + "  (all " + candidates + " candidates, best first)");
        }
        return 0;
    }

    private void write(Generation g) throws Exception {
        Files.createDirectories(out);
        for (int i = 0; i < g.topK(); i++) {
            Files.write(out.resolve("top-" + (i + 1) + ".png"), g.ranked().get(i).image().toPng());
        }
        int cols = (int) Math.ceil(Math.sqrt(g.ranked().size()));
        RgbImage sheet = ContactSheet.render(g.ranked().stream().map(Candidate::image).toList(), cols, 2, 2);
        Files.write(out.resolve("sheet.png"), sheet.toPng());
        JsonObject json = new JsonObject();
        json.addProperty("caption", g.caption());
        json.addProperty("seed", g.seed());
        json.addProperty("bundle_version", g.bundleVersion());
        json.addProperty("candidates", g.ranked().size());
        json.addProperty("top_k", g.topK());
        JsonArray ranked = new JsonArray();
        for (int i = 0; i < g.ranked().size(); i++) {
            Candidate c = g.ranked().get(i);
            JsonObject o = new JsonObject();
            o.addProperty("rank", i + 1);
            o.addProperty("candidate_index", c.index());
            o.addProperty("score", c.score());
            if (i < g.topK()) {
                o.addProperty("file", "top-" + (i + 1) + ".png");
            }
            ranked.add(o);
        }
        json.add("ranked", ranked);
        JsonObject timings = new JsonObject();
        timings.addProperty("tokenize_ms", g.timings().tokenizeMs());
        timings.addProperty("sample_ms", g.timings().sampleMs());
        timings.addProperty("decode_ms", g.timings().decodeMs());
        timings.addProperty("rerank_ms", g.timings().rerankMs());
        json.add("timings", timings);
        Files.writeString(out.resolve("scores.json"), Checkpoints.GSON.toJson(json) + "\n");
    }
}
