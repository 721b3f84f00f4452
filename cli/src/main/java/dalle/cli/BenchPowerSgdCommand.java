package dalle.cli;

import dalle.core.nn.Parameter;
import dalle.core.transformer.PriorConfig;
import dalle.training.cluster.powersgd.PowerSgdComparison;
import dalle.training.cluster.powersgd.PowerSgdConfig;
import dalle.training.cluster.powersgd.SimulatedDataParallel;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalle bench powersgd}: the tiny prior trained by W simulated data-parallel workers with exact
 * gradient averaging, then with PowerSGD at each rank, same data and steps; prints final losses and
 * gradient bytes sent.
 */
@Command(name = "powersgd", mixinStandardHelpOptions = true,
        description = {"PowerSGD vs exact gradient averaging on the tiny prior: W simulated data-parallel workers",
                "(one process), fresh synthetic text+image-token examples, the same updates for every run.",
                "Prints each run's loss on held-out examples, its gap to exact averaging, and the gradient bytes",
                "one worker all-reduced (fp32 payload) against the uncompressed exchange."})
final class BenchPowerSgdCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--workers", defaultValue = "2", description = "Simulated data-parallel workers W (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--micro-batch", defaultValue = "2", description = "Examples per worker per update (default ${DEFAULT-VALUE}).")
    int microBatch;

    @Option(names = "--steps", defaultValue = "400", description = "Updates per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate, 10% warm-up then cosine (default ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--ranks", split = ",", defaultValue = "1,2,3,4", description = "PowerSGD ranks (default ${DEFAULT-VALUE}).")
    List<Integer> ranks;

    @Option(names = "--q", defaultValue = "warm", description = "Q: 'warm' (PyTorch's warm start) or 'fixed' (the paper's fixed random Q; default ${DEFAULT-VALUE}).")
    String q;

    @Option(names = "--compress", defaultValue = "weights+unembedding",
            description = "What may be compressed: 'weights' (the paper: resblock weights only) or 'weights+unembedding'"
                    + " (every 2-D matrix but the embeddings). Gains, biases and embeddings never are (default ${DEFAULT-VALUE}).")
    String compress;

    @Option(names = "--exact-steps", defaultValue = "0",
            description = "First updates averaged exactly before compression starts (PyTorch's start_powerSGD_iter; the paper: 0; default ${DEFAULT-VALUE}).")
    int exactSteps;

    @Option(names = "--text-vocab", defaultValue = "16", description = "Text vocabulary of the synthetic data (default ${DEFAULT-VALUE}).")
    int textVocab;

    @Option(names = "--held-out", defaultValue = "64", description = "Held-out examples for the final loss (default ${DEFAULT-VALUE}).")
    int heldOut;

    @Option(names = "--seed", defaultValue = "1", description = "Weights and data seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        PowerSgdConfig.QStart start = switch (q) {
            case "warm" -> PowerSgdConfig.QStart.WARM_START;
            case "fixed" -> PowerSgdConfig.QStart.FIXED_RANDOM;
            default -> throw new IllegalArgumentException("--q must be 'warm' or 'fixed', not '" + q + "'");
        };
        Set<Parameter.Kind> kinds = switch (compress) {
            case "weights" -> EnumSet.of(Parameter.Kind.WEIGHT);
            case "weights+unembedding" -> EnumSet.of(Parameter.Kind.WEIGHT, Parameter.Kind.UNEMBEDDING);
            default -> throw new IllegalArgumentException("--compress must be 'weights' or 'weights+unembedding', not '"
                    + compress + "'");
        };
        SimulatedDataParallel.Settings settings = new SimulatedDataParallel.Settings(
                PriorConfig.tiny(textVocab, 0), workers, microBatch, steps, lr, heldOut, seed);
        PowerSgdConfig powerSgd = PowerSgdConfig.paper(1, seed).withQ(start).withCompressedKinds(kinds)
                .withExactSteps(exactSteps);
        PowerSgdComparison.compare(settings, ranks.stream().mapToInt(Integer::intValue).toArray(), powerSgd,
                spec.commandLine().getOut());
        return 0;
    }
}
