package dalle.cli;

import ai.djl.ndarray.NDManager;
import dalle.core.bundle.ModelBundle;
import dalle.core.data.emoji.PreparedEmoji;
import dalle.core.dvae.Dvae;
import dalle.core.eval.EvalReport.Reconstruction;
import dalle.core.eval.ReconstructionEvaluator;
import dalle.core.eval.emoji.EmojiEvalOptions;
import dalle.core.eval.emoji.EmojiEvalReport;
import dalle.core.eval.emoji.EmojiEvalReportWriter;
import dalle.core.eval.emoji.EmojiEvaluation;
import dalle.core.image.RgbImage;
import dalle.core.eval.EvalOptions;
import dalle.core.eval.EvalReport;
import dalle.core.eval.EvalReportWriter;
import dalle.core.eval.Evaluation;
import dalle.core.pipeline.Pipeline;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dalle eval}: caption-match accuracy against N and dVAE reconstruction quality of a bundle. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a bundle on the fixed shapes caption sets (seen and held-out pairs, one object and "
                + "two with a relation): sample max N candidates per caption once, rerank the first N for every N, "
                + "and let the oracle judge the kept image. Also measures the dVAE's reconstruction PSNR and "
                + "codebook usage on held-out images.",
                "An emoji bundle (its name starts with 'emoji') is evaluated on the prepared emoji data instead "
                        + "(--data): seen captions, seen and held-out gesture x skin-tone pairs and held-out names, "
                        + "judged by nearest neighbours among all renderings of the caption's vendor (no trained "
                        + "model involved), with the judge's ceiling; dVAE PSNR on the held-out pictures.",
                "Prints a Markdown table and writes DIR/eval.md, DIR/eval.json (every number and per-caption "
                        + "details) and DIR/accuracy-vs-n.png. Same bundle and seed, same numbers.",
                "With --dvae DIR, only the reconstruction PSNR of that dVAE on the emoji data."})
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--captions-per-set", paramLabel = "C", defaultValue = "24",
            description = "Captions in each of the four caption sets (default ${DEFAULT-VALUE}).")
    int captionsPerSet;

    @Option(names = "--n", paramLabel = "N", split = ",", defaultValue = "1,2,4,8,16,32",
            description = "Reranking sizes; the largest is sampled per caption (default ${DEFAULT-VALUE}).")
    List<Integer> ns;

    @Option(names = {"-s", "--seed"}, defaultValue = "0",
            description = "Seed of the captions and candidates (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "eval",
            description = "Output folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--images", defaultValue = "256",
            description = "Held-out images for the dVAE reconstruction check, 0 to skip (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "${sys:dalle.home:-.}/.dalle/data/emoji",
            description = "Prepared emoji data ('dalle data emoji') for emoji bundles and --dvae (default: the"
                    + " checkout's .dalle/data/emoji).")
    Path data;

    @Option(names = "--dvae", paramLabel = "DIR",
            description = "Measure only this dVAE's PSNR (a model or training-run directory) on the emoji data.")
    Path dvae;

    @Mixin SamplingOptions sampling;

    @Mixin ModelOption model;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (dvae != null) {
            return reconstructionOnly();
        }
        // Validate before reading anything: a bad option costs nothing (an emoji bundle's options obey the same rules).
        EvalOptions options = new EvalOptions(captionsPerSet, ns.stream().sorted().distinct().toList(), seed,
                sampling.params(), images);
        Path dir = model.resolve();
        if (ModelBundle.readManifest(dir).name().startsWith("emoji")) {
            return emoji(dir, options);
        }
        long t0 = System.nanoTime();
        try (ModelBundle bundle = ModelBundle.load(dir)) {
            System.err.printf("model %s loaded from %s in %.1f s; %d captions x %d candidates%n", bundle.version(), dir,
                    (System.nanoTime() - t0) / 1e9, 4 * options.captionsPerSet(), options.maxN());
            ProgressBar bar = new ProgressBar(System.err);
            EvalReport report = Evaluation.run(bundle, options, bar::update);
            bar.finish();
            List<Path> files = EvalReportWriter.write(report, out);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.print(EvalReportWriter.markdown(report));
            stdout.flush();
            System.err.println("wrote " + String.join(", ", files.stream().map(Path::toString).toList()));
        }
        return 0;
    }

    /** {@code dalle eval} of an emoji bundle on the prepared emoji data. */
    private int emoji(Path dir, EvalOptions checked) throws Exception {
        EmojiEvalOptions options = new EmojiEvalOptions(checked.captionsPerSet(), checked.ns(), checked.seed(),
                checked.sampling(), checked.reconstructionImages() > 0, EmojiEvalOptions.DEFAULT_JUDGE_CELLS);
        PreparedEmoji prepared = PreparedEmoji.open(data);
        long t0 = System.nanoTime();
        try (ModelBundle bundle = ModelBundle.load(dir)) {
            System.err.printf(Locale.ROOT, "model %s loaded from %s in %.1f s; emoji data %s; up to %d captions per set"
                            + " and vendor x %d candidates%n", bundle.version(), dir, (System.nanoTime() - t0) / 1e9,
                    data, options.captionsPerVendor(), options.maxN());
            ProgressBar bar = new ProgressBar(System.err);
            EmojiEvalReport report = EmojiEvaluation.run(bundle, prepared, options, bar::update);
            bar.finish();
            List<Path> files = EmojiEvalReportWriter.write(report, out);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.print(EmojiEvalReportWriter.markdown(report));
            stdout.flush();
            System.err.println("wrote " + String.join(", ", files.stream().map(Path::toString).toList()));
        }
        return 0;
    }

    /** {@code dalle eval --dvae DIR}: PSNR of one dVAE on the emoji data's held-out and training pictures. */
    private int reconstructionOnly() throws Exception {
        PreparedEmoji prepared = PreparedEmoji.open(data);
        var heldOut = prepared.pictures().stream().filter(PreparedEmoji::heldOut).toList();
        var train = prepared.pictures().stream().filter(e -> !PreparedEmoji.heldOut(e)).limit(heldOut.size()).toList();
        PrintWriter stdout = spec.commandLine().getOut();
        try (NDManager manager = NDManager.newBaseManager()) {
            Dvae d = Dvae.load(TrainCommand.modelDir(dvae), manager);
            ReconstructionEvaluator rec = new ReconstructionEvaluator(d, manager);
            for (var set : List.of(heldOut, train)) {
                List<RgbImage> pictures = set.stream().map(prepared::image).toList();
                String source = set == heldOut ? "held-out pictures" : "training pictures (first in training order)";
                Reconstruction r = rec.evaluate(pictures, source, Pipeline.Progress.NONE);
                stdout.printf(Locale.ROOT, "%s: %d %s: PSNR %.2f dB mean (worst %.2f); perplexity %.1f of K = %d,"
                                + " %d codes used%n", dvae, r.images(), source, r.meanPsnrDb(), r.minPsnrDb(),
                        r.perplexity(), r.codebookSize(), r.distinctCodes());
            }
        }
        stdout.flush();
        return 0;
    }
}
