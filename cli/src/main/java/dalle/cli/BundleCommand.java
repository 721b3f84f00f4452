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

/**
 * {@code dalle bundle init}: an untrained bundle, for trying the mechanics end to end;
 * {@code dalle bundle assemble}: a bundle of trained models.
 */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Model bundles.",
        subcommands = {BundleCommand.Init.class, BundleCommand.Assemble.class})
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
            untrained(out, seed, vocab, corpus);
            System.out.println(out);
            return 0;
        }
    }

    /**
     * Writes an untrained tiny bundle: a BPE tokenizer of {@code vocab} tokens trained on {@code corpus} and
     * randomly initialised models (seeds {@code seed}, +1, +2). Its images are noise.
     */
    static BundleManifest untrained(Path out, long seed, int vocab, List<String> corpus) throws Exception {
        BpeTokenizer tokenizer = BpeTokenizer.train(corpus, vocab);
        try (NDManager manager = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(manager, DvaeConfig.tiny(), seed);
            DallePrior prior = new DallePrior(manager, PriorConfig.tiny(tokenizer.vocabSize(), tokenizer.padId()),
                    seed + 1);
            ContrastiveScorer clip = new ContrastiveScorer(manager,
                    ClipConfig.tiny(tokenizer.vocabSize(), tokenizer.padId()), seed + 2);
            BundleManifest m = ModelBundle.save(out, "untrained-tiny", "tiny",
                    "UNTRAINED: random weights (seed " + seed + "), tokenizer trained on " + corpus.size()
                            + " captions; for testing the mechanics only",
                    tokenizer, dvae, prior, clip, SafeTensors.Storage.F32);
            System.err.printf("bundle %s written (tokenizer %d tokens; prior %,d, dVAE %,d, reranker %,d parameters)%n",
                    m.version(), tokenizer.vocabSize(), prior.parameterCount(), dvae.parameterCount(),
                    clip.parameterCount());
            return m;
        }
    }

    /** An untrained tiny bundle with the tokenizer trained on {@code captions} shapes captions of {@code seed}. */
    static BundleManifest untrainedShapes(Path out, long seed, int vocab, int captions) throws Exception {
        ShapesDataset shapes = ShapesDataset.train(seed, ShapesDataset.DEFAULT_RESOLUTION);
        List<String> corpus = new ArrayList<>(captions);
        for (long i = 0; i < captions; i++) {
            corpus.add(shapes.caption(i).text());
        }
        return untrained(out, seed, vocab, corpus);
    }

    @Command(name = "assemble", mixinStandardHelpOptions = true,
            description = {"Make a bundle of trained models: the tokenizer, the dVAE, the prior and the reranker.",
                    "Each model may be given as its model directory or as the training run's directory (DIR/model/)."})
    static final class Assemble implements Callable<Integer> {

        @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The tokenizer.json the prior and reranker were trained with.")
        Path tokenizer;

        @Option(names = "--dvae", required = true, paramLabel = "DIR", description = "The trained dVAE.")
        Path dvae;

        @Option(names = "--prior", required = true, paramLabel = "DIR", description = "The trained prior.")
        Path prior;

        @Option(names = "--clip", required = true, paramLabel = "DIR", description = "The trained reranker.")
        Path clip;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Bundle directory.")
        Path out;

        @Option(names = "--name", defaultValue = "tiny-shapes", description = "Bundle name; the version is the name + a content hash (default ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--description", description = "Free text for bundle.json (default: where the models came from).")
        String description;

        @Option(names = "--f16", description = "Store weights as float16 (half the size; loading converts to fp32).")
        boolean f16;

        @Option(names = "--force", description = "Overwrite an existing bundle directory.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            if (Files.exists(out.resolve(BundleManifest.FILE)) && !force) {
                throw new DalleCommand.UserError(out + " already holds a bundle (pass --force to replace it)");
            }
            Path dvaeDir = TrainCommand.modelDir(dvae);
            Path priorDir = TrainCommand.modelDir(prior);
            Path clipDir = TrainCommand.modelDir(clip);
            BpeTokenizer tok = BpeTokenizer.load(tokenizer);
            try (NDManager manager = NDManager.newBaseManager()) {
                Dvae d = Dvae.load(dvaeDir, manager);
                DallePrior p = DallePrior.load(priorDir, manager);
                ContrastiveScorer c = ContrastiveScorer.load(clipDir, manager);
                boolean tiny = d.config().equals(DvaeConfig.tiny())
                        && p.config().equals(PriorConfig.tiny(tok.vocabSize(), tok.padId()))
                        && c.config().equals(ClipConfig.tiny(tok.vocabSize(), tok.padId()));
                String text = description != null ? description : "trained: dVAE " + trainedFor(dvae, dvaeDir)
                        + ", prior " + trainedFor(prior, priorDir) + ", reranker " + trainedFor(clip, clipDir)
                        + "; tokenizer " + tokenizer.getFileName() + " (" + tok.vocabSize() + " ids)";
                BundleManifest m = ModelBundle.save(out, name, tiny ? "tiny" : "custom", text, tok, d, p, c,
                        f16 ? SafeTensors.Storage.F16 : SafeTensors.Storage.F32);
                System.err.printf("bundle %s written (%s weights; prior %,d, dVAE %,d, reranker %,d parameters)%n",
                        m.version(), f16 ? "F16" : "F32", p.parameterCount(), d.parameterCount(), c.parameterCount());
            }
            System.out.println(out);
            return 0;
        }

        /** "5000 steps (DIR)" when {@code given} is a training run with a checkpoint, else the model directory. */
        private static String trainedFor(Path given, Path modelDir) {
            Path state = given.resolve("checkpoint").resolve("state.json");
            if (!modelDir.equals(given) && Files.isRegularFile(state)) {
                try {
                    var o = com.google.gson.JsonParser.parseString(Files.readString(state)).getAsJsonObject();
                    return o.get("step").getAsLong() + " steps (" + given + ")";
                } catch (java.io.IOException | RuntimeException e) {
                    return "from " + modelDir + " (run state unreadable: " + e.getMessage() + ")";
                }
            }
            return "from " + modelDir;
        }
    }
}
