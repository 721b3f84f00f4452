package dalle.cli;

import dalle.core.data.readers.Readers;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.train.ExampleBatches;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.TokenizerFiles;
import dalle.core.train.Trainer;
import dalle.core.train.TrainerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every {@code dalle train} command takes (a picocli mixin), and what follows from them. */
final class TrainOptions {

    @Option(names = "--preset", defaultValue = "tiny", description = "Model sizes: tiny (dvae also: small) (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--config", hidden = true, paramLabel = "FILE",
            description = "Model sizes from a JSON config (a model's config.json works); overrides --preset.")
    Path config;

    @Option(names = "--data", defaultValue = "shapes", paramLabel = "shapes|PATH",
            description = "Training data: the synthetic shapes, or a folder / COCO .json / WebDataset shards (default ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--steps", required = true, description = "Update budget; every schedule is scaled to it.")
    long steps;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "The run's directory.")
    Path out;

    @Option(names = "--resume", description = "Continue the run in DIR from its last checkpoint (same options).")
    boolean resume;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights, data and noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", description = "Examples per update (default: dvae 32, prior 32, clip 64).")
    Integer batch;

    @Option(names = "--checkpoint-every", defaultValue = "500", paramLabel = "K", description = "Updates between checkpoints (default ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--lr", description = "Peak learning rate (default: the recipe's; dvae 1e-4, prior 4.5e-4, clip 5e-4).")
    Float lr;

    @Option(names = "--ema", paramLabel = "DECAY", description = {"Weight EMA decay, 0 = off (default: dvae 0.999,",
            "prior 0.99, clip off; capped at 1 - 10/steps so that the initial weights fade from the average)."})
    Float ema;

    TrainerOptions options() {
        return new TrainerOptions(out, steps, seed, checkpointEvery, resume);
    }

    boolean shapes() {
        return data.equals("shapes");
    }

    OptimizerSettings optimizer(OptimizerSettings recipe) {
        return ema == null ? recipe.forBudget(steps) : recipe.withEmaDecay(ema);
    }

    /** The batches of the chosen data at {@code resolution}. */
    ExampleBatches batches(int resolution) {
        if (shapes()) {
            return ExampleBatches.shapes(ShapesDataset.train(seed, resolution));
        }
        Path path = Path.of(data);
        return ExampleBatches.stream(Readers.open(path, resolution), path);
    }

    /** The first {@link TokenizerFiles#CORPUS_CAPTIONS} captions of the chosen data. */
    List<String> captions(int resolution) {
        List<String> out = new ArrayList<>();
        if (shapes()) {
            ShapesDataset d = ShapesDataset.train(seed, resolution);
            for (int i = 0; i < TokenizerFiles.CORPUS_CAPTIONS; i++) {
                out.add(d.caption(i).text());
            }
            return out;
        }
        try (var pass = Readers.open(Path.of(data), resolution).iterator()) {
            while (out.size() < TokenizerFiles.CORPUS_CAPTIONS && pass.hasNext()) {
                out.add(pass.next().caption());
            }
        }
        return out;
    }

    void refuseExistingRun() {
        if (!resume && Trainer.holdsRun(out)) {
            throw new DalleCommand.UserError(out + " already holds a training run: add --resume to continue it"
                    + " (with the same options), or choose another --out");
        }
    }
}
