package dalle.cli;

import dalle.core.bundle.ModelBundle;
import dalle.core.eval.EvalOptions;
import dalle.core.eval.EvalReport;
import dalle.core.eval.EvalReportWriter;
import dalle.core.eval.Evaluation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
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
                "Prints a Markdown table and writes DIR/eval.md, DIR/eval.json (every number and per-caption "
                        + "details) and DIR/accuracy-vs-n.png. Same bundle and seed, same numbers."})
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

    @Mixin SamplingOptions sampling;

    @Mixin ModelOption model;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Validate before loading anything: a bad option costs nothing.
        EvalOptions options = new EvalOptions(captionsPerSet, ns.stream().sorted().distinct().toList(), seed,
                sampling.params(), images);
        Path dir = model.resolve();
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
}
