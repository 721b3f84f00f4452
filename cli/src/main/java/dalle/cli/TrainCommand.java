package dalle.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dalle.core.clip.ClipConfig;
import dalle.core.data.Example;
import dalle.core.data.readers.DataSourceException;
import dalle.core.data.readers.ExampleSource;
import dalle.core.data.readers.Readers;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.dvae.DvaeRecipe;
import dalle.core.dvae.Reconstruction;
import dalle.core.io.Checkpoints;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.ClipTask;
import dalle.core.train.CodeCache;
import dalle.core.train.DvaeTask;
import dalle.core.train.ExampleBatches;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.PriorTask;
import dalle.core.train.TokenizerFiles;
import dalle.core.train.Trainer;
import dalle.core.train.TrainingResult;
import dalle.core.train.TrainingTask;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.PriorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle train dvae|prior|clip}: train one model of a bundle on shapes or a data set on disk. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train one of the three models; then combine them with 'dalle bundle assemble'.",
                "Order: dvae, then prior (on the dVAE's codes), then clip (any time). Each run writes DIR/model/,",
                "DIR/metrics.jsonl, DIR/loss.png and checkpoints (DIR/checkpoint/) that --resume continues exactly."},
        subcommands = {TrainCommand.DvaeRun.class, TrainCommand.PriorRun.class, TrainCommand.ClipRun.class,
                TrainWorkerCommand.class})
final class TrainCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Trains {@code task} as the options say, with a progress line; prints the model directory. */
    static int train(TrainOptions c, String name, NDManager manager, TrainingTask task) throws IOException {
        TrainProgress progress = new TrainProgress(System.err, name);
        long params = task.model().parameterCount();
        System.err.printf("%s: %,d parameters, batch %d, %d steps, seed %d, %s -> %s%n", name, params,
                task.batchSize(), c.steps, c.seed, task.identity().getOrDefault("data",
                        task.identity().getOrDefault("codes", "")), c.out);
        try (Trainer trainer = new Trainer(manager, task, c.options(), progress)) {
            TrainingResult r = trainer.run();
            progress.finish();
            System.err.printf("%s: %d steps, %s of training in all (%.2f steps/s over the whole run), %d skipped;"
                            + " last losses %s%n", name, r.step(), TrainProgress.duration(r.wallSeconds()),
                    r.step() / Math.max(1e-9, r.wallSeconds()), r.skippedUpdates(), r.lastLosses());
        }
        System.err.println(task.dataSummary());
        System.err.printf("%s: metrics %s, chart %s%n", name, c.options().metricsFile(), c.options().chartFile());
        System.out.println(c.options().modelDir());
        return 0;
    }

    /** {@code dir} if it holds a model's config.json, else {@code dir/model} (a training run's directory). */
    static Path modelDir(Path dir) {
        if (Files.isRegularFile(dir.resolve(Checkpoints.CONFIG_FILE))) {
            return dir;
        }
        Path model = dir.resolve(Trainer.MODEL_DIR);
        if (Files.isRegularFile(model.resolve(Checkpoints.CONFIG_FILE))) {
            return model;
        }
        throw new DalleCommand.UserError("no model at " + dir + ": expected a model directory (config.json +"
                + " model.safetensors) or a training run directory holding model/ (is the run finished?)");
    }

    /**
     * A config record from a JSON file (a bare config object, or a model's config.json with a "config"
     * member), with {@code derived} fields set from the tokenizer and the dVAE.
     */
    static <C extends Record> C readConfig(Path file, Class<C> type, Map<String, Integer> derived) throws IOException {
        try {
            JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            JsonElement inner = root.get("config");
            JsonObject o = inner != null && inner.isJsonObject() ? inner.getAsJsonObject() : root;
            derived.forEach(o::addProperty);
            return Checkpoints.GSON.fromJson(o, type);
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            throw new IllegalArgumentException("--config " + file + ": " + cause.getMessage(), e);
        }
    }

    /** Runs a trainer body, turning data-source failures into one clear line. */
    static int guarded(Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (DataSourceException e) {
            throw new DalleCommand.UserError(e.getMessage());
        }
    }

    @Command(name = "dvae", mixinStandardHelpOptions = true,
            description = {"Stage 1: the discrete VAE (Gumbel-softmax ELB; τ, β and lr schedules are fractions of --steps).",
                    "DIR/model/ holds the EMA weights when the EMA is on."})
    static final class DvaeRun implements Callable<Integer> {
        @Mixin TrainOptions c;

        @Option(names = "--recipe", defaultValue = "paper", paramLabel = "paper|shapes",
                description = {"paper: the paper's objective and schedules (default). shapes: the shipped tiny dVAE's",
                        "recipe for flat synthetic images: Gaussian reconstruction, β 0, usage penalty 0.1, encoder",
                        "logits ×8 at init, lr 1e-3 -> 1e-4, τ annealed over the first half (see MODEL_CARD.md)."})
        String recipe;

        @Option(names = "--code-usage-weight", paramLabel = "W",
                description = {"Weight of a penalty on uneven code usage across the batch (wav2vec 2.0's diversity",
                        "loss; not in the paper). Default: the recipe's (paper 0, shapes 0.1)."})
        Float usageWeight;

        @Option(names = "--reconstruction", paramLabel = "logit-laplace|gaussian",
                description = {"The ELB's reconstruction term: the paper's logit-Laplace, or a Gaussian on pixel values",
                        "with σ = 0.1. Default: the recipe's (paper logit-laplace, shapes gaussian)."})
        String reconstruction;

        @Override
        public Integer call() throws Exception {
            return guarded(() -> {
                c.refuseExistingRun();
                DvaeConfig config = c.config != null ? readConfig(c.config, DvaeConfig.class, Map.of())
                        : switch (c.preset) {
                            case "tiny" -> DvaeConfig.tiny();
                            case "small" -> DvaeConfig.small();
                            default -> throw new IllegalArgumentException("--preset: the dVAE trains at tiny or small"
                                    + " on this machine, not '" + c.preset + "'");
                        };
                DvaeRecipe r = DvaeRecipe.named(recipe);
                if (c.lr != null) {
                    r = r.withPeakLearningRate(c.lr);
                }
                if (usageWeight != null) {
                    r = r.withUsageWeight(usageWeight);
                }
                if (reconstruction != null) {
                    r = r.withReconstruction(Reconstruction.parse(reconstruction));
                }
                DvaeRecipe chosen = r;
                try (NDManager manager = NDManager.newBaseManager();
                     DvaeTask task = new DvaeTask(manager, config, c.batches(config.imageSize()),
                             c.batch != null ? c.batch : 32, c.seed, chosen,
                             c.optimizer(OptimizerSettings.dvaePaper()))) {
                    return train(c, "dvae", manager, task);
                }
            });
        }
    }

    /** How a run gets its tokenizer: a given file, or one trained on the run's captions. */
    static final class TokenizerChoice {
        @Option(names = "--tokenizer", paramLabel = "FILE", description = "A tokenizer.json to use instead of training one.")
        Path file;

        @Option(names = "--vocab", defaultValue = "1024", description = "Vocabulary of a trained tokenizer (default ${DEFAULT-VALUE}).")
        int vocab;
    }

    @Command(name = "prior", mixinStandardHelpOptions = true,
            description = {"Stage 2: the transformer prior on captions + the dVAE's codes of their images.",
                    "The codes are computed once into DIR/codes.bin; the tokenizer is --tokenizer or one trained on the",
                    "first 20,000 captions, kept as DIR/tokenizer.json (pass it to 'train clip' and 'bundle assemble')."})
    static final class PriorRun implements Callable<Integer> {
        @Mixin TrainOptions c;

        @Option(names = "--dvae", required = true, paramLabel = "DIR", description = "The trained dVAE (its run or model directory).")
        Path dvae;

        @Option(names = "--examples", defaultValue = "50000", description = "Examples to encode into the code cache (default ${DEFAULT-VALUE}).")
        int examples;

        @Mixin TokenizerChoice choice;

        @Mixin DistributedOptions distributed;

        @Override
        public Integer call() throws Exception {
            return guarded(() -> {
                c.refuseExistingRun();
                distributed.check();
                Path dvaeDir = modelDir(dvae);
                DvaeConfig dc = Dvae.readConfig(dvaeDir);
                Files.createDirectories(c.out);
                try (NDManager manager = NDManager.newBaseManager()) {
                    String data;
                    java.util.function.Supplier<Iterator<Example>> pass;
                    if (c.shapes()) {
                        ShapesDataset d = ShapesDataset.train(c.seed, dc.imageSize());
                        data = ExampleBatches.shapes(d).describe();
                        pass = () -> d.examples(0, examples).iterator();
                    } else {
                        ExampleSource source = Readers.open(Path.of(c.data), dc.imageSize());
                        data = source.describe();
                        pass = source::iterator;
                    }
                    ProgressBar bar = new ProgressBar(System.err);
                    TrainProgress notes = new TrainProgress(System.err, "prior");
                    CodeCache codes = CodeCache.prepare(c.out.resolve(CodeCache.FILE), dvaeDir, data, pass, examples,
                            c.resume, manager, n -> bar.update("encode", (int) n, examples), notes::onNote);
                    bar.finish();
                    BpeTokenizer tok = TokenizerFiles.resolve(choice.file, c.out, () -> codes.captions()
                            .subList(0, Math.min(codes.size(), TokenizerFiles.CORPUS_CAPTIONS)), choice.vocab, notes::onNote);
                    Map<String, Integer> derived = Map.of("textVocab", tok.vocabSize(), "padTokenId", tok.padId(),
                            "imageVocab", dc.codebookSize(), "gridSize", dc.gridSize());
                    PriorConfig sizes = c.config != null ? readConfig(c.config, PriorConfig.class, derived)
                            : switch (c.preset) {
                                case "tiny" -> PriorConfig.tiny(tok.vocabSize(), tok.padId());
                                default -> throw new IllegalArgumentException("--preset: the prior trains at tiny on"
                                        + " this machine, not '" + c.preset + "'");
                            };
                    PriorConfig config = PriorTask.fit(sizes, tok, dc.codebookSize(), dc.gridSize());
                    if (distributed.distributed()) {
                        return distributed.train(c, config, c.batch != null ? c.batch : 32,
                                new WarmupCosine(c.lr != null ? c.lr : PriorTask.PAPER_LR, WarmupCosine.DEFAULT_WARMUP,
                                        0.1f), c.optimizer(OptimizerSettings.priorPaper()));
                    }
                    try (PriorTask task = new PriorTask(manager, config, codes, tok, c.batch != null ? c.batch : 32,
                            c.seed, new WarmupCosine(c.lr != null ? c.lr : PriorTask.PAPER_LR,
                                    WarmupCosine.DEFAULT_WARMUP, 0.1f),
                            c.optimizer(OptimizerSettings.priorPaper()), PriorTask.PAPER_BPE_DROPOUT)) {
                        return train(c, "prior", manager, task);
                    }
                }
            });
        }
    }

    @Command(name = "clip", mixinStandardHelpOptions = true,
            description = {"The reranker: a small CLIP trained contrastively on captioned images.",
                    "Use the prior's tokenizer (--tokenizer PRIOR_DIR/tokenizer.json) so that the bundle agrees."})
    static final class ClipRun implements Callable<Integer> {
        @Mixin TrainOptions c;

        @Mixin TokenizerChoice choice;

        @Override
        public Integer call() throws Exception {
            return guarded(() -> {
                c.refuseExistingRun();
                TrainProgress notes = new TrainProgress(System.err, "clip");
                ClipConfig preset = switch (c.preset) {
                    case "tiny" -> ClipConfig.tiny(1, 0);
                    default -> throw new IllegalArgumentException("--preset: the reranker trains at tiny on this"
                            + " machine, not '" + c.preset + "'");
                };
                // the image size decides the data's resolution, so read the sizes before the tokenizer
                ClipConfig sizes = c.config != null
                        ? readConfig(c.config, ClipConfig.class, Map.of("textVocab", 1, "padTokenId", 0)) : preset;
                BpeTokenizer tok = TokenizerFiles.resolve(choice.file, c.out, () -> c.captions(sizes.imageSize()),
                        choice.vocab, notes::onNote);
                ClipConfig config = ClipTask.fit(sizes, tok);
                try (NDManager manager = NDManager.newBaseManager();
                     ClipTask task = new ClipTask(manager, config, c.batches(config.imageSize()), tok,
                             c.batch != null ? c.batch : 64, c.seed,
                             new WarmupCosine(c.lr != null ? c.lr : ClipTask.CLIP_LR, WarmupCosine.DEFAULT_WARMUP, 0f),
                             c.optimizer(OptimizerSettings.clipPaper()))) {
                    return train(c, "clip", manager, task);
                }
            });
        }
    }
}
