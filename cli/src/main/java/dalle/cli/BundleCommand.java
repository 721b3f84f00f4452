package dalle.cli;

import ai.djl.ndarray.NDManager;
import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.ModelBundle;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.io.SafeTensors;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalle bundle init}: an untrained bundle, for trying the mechanics end to end. */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Model bundles.",
        subcommands = {BundleCommand.Init.class})
final class BundleCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Make a bundle with a tokenizer trained on captions and RANDOMLY INITIALISED models.",
                    "Its images are noise: it is for exercising the pipeline and services, not for pictures."})
    static final class Init implements Callable<Integer> {

        @Option(names = "--preset", defaultValue = "tiny", description = "Model sizes (default ${DEFAULT-VALUE}).")
        String preset;

        @Option(names = {"-o", "--out"}, defaultValue = "models/untrained", description = "Bundle directory (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--vocab", defaultValue = "1024", description = "BPE vocabulary size (default ${DEFAULT-VALUE}).")
        int vocab;

        @Option(names = "--captions", paramLabel = "FILE",
                description = "Train the tokenizer on these captions, one per line (default: 20,000 shapes captions).")
        Path captions;

        @Option(names = "--force", description = "Overwrite an existing bundle directory.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            if (!preset.equals("tiny")) {
                throw new IllegalArgumentException("--preset: only 'tiny' can be initialised on this machine, got '"
                        + preset + "'");
            }
            if (Files.exists(out.resolve(BundleManifest.FILE)) && !force) {
                System.err.println("dalle: " + out + " already holds a bundle; keeping it (pass --force to replace)");
                System.out.println(out);
                return 0;
            }
            List<String> corpus = new ArrayList<>();
            if (captions != null) {
                corpus.addAll(Files.readAllLines(captions));
            } else {
                ShapesDataset shapes = ShapesDataset.train(seed, ShapesDataset.DEFAULT_RESOLUTION);
                for (long i = 0; i < 20_000; i++) {
                    corpus.add(shapes.caption(i).text());
                }
            }
            BpeTokenizer tokenizer = BpeTokenizer.train(corpus, vocab);
            try (NDManager manager = NDManager.newBaseManager()) {
                Dvae dvae = new Dvae(manager, DvaeConfig.tiny(), seed);
                DallePrior prior = new DallePrior(manager, PriorConfig.tiny(tokenizer.vocabSize(), tokenizer.padId()),
                        seed + 1);
                ContrastiveScorer clip = new ContrastiveScorer(manager,
                        ClipConfig.tiny(tokenizer.vocabSize(), tokenizer.padId()), seed + 2);
                BundleManifest m = ModelBundle.save(out, "untrained-tiny", preset,
                        "UNTRAINED: random weights (seed " + seed + "), tokenizer trained on " + corpus.size()
                                + " captions; for testing the mechanics only",
                        tokenizer, dvae, prior, clip, SafeTensors.Storage.F32);
                System.err.printf("bundle %s written (tokenizer %d tokens; prior %,d, dVAE %,d, reranker %,d parameters)%n",
                        m.version(), tokenizer.vocabSize(), prior.parameterCount(), dvae.parameterCount(),
                        clip.parameterCount());
            }
            System.out.println(out);
            return 0;
        }
    }
}
