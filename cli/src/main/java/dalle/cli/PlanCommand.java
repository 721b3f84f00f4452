package dalle.cli;

import dalle.core.clip.ClipConfig;
import dalle.core.dvae.DvaeConfig;
import dalle.core.transformer.PriorConfig;
import dalle.training.cluster.shard.TrainingPlan;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalle plan}: model sizes of a preset and, with {@code --machines}, the prior's per-GPU memory
 * under ZeRO-3 sharding and its PowerSGD compression rate, computed from the configs without allocating weights.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Parameter counts and fp32/fp16 weight bytes of a preset, without allocating it.",
                "With --machines: the transformer prior's bytes per GPU under parameter sharding inside a machine",
                "and the PowerSGD compression rate between machines (precisions as in PAPER.md, printed)."})
final class PlanCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--preset", defaultValue = "paper", description = "tiny or paper (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--machines", description = "Machines (data-parallel replicas); prints the cluster plan of the prior.")
    Integer machines;

    @Option(names = "--gpus-per-machine", defaultValue = "8", description = "GPUs per machine = sharding group size (default ${DEFAULT-VALUE}).")
    int gpusPerMachine;

    @Option(names = "--powersgd-rank", defaultValue = "896", description = "Total PowerSGD rank r over a machine's GPUs (default ${DEFAULT-VALUE}, the paper's).")
    int powerSgdRank;

    private PrintWriter out;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        PriorConfig prior;
        DvaeConfig dvae;
        switch (preset) {
            case "tiny" -> {
                prior = PriorConfig.tiny(1024, 0);
                dvae = DvaeConfig.tiny();
            }
            case "paper" -> {
                prior = PriorConfig.paper();
                dvae = DvaeConfig.paper();
            }
            default -> throw new IllegalArgumentException("--preset: unknown preset '" + preset + "' (tiny, paper)");
        }
        TrainingPlan plan = machines == null ? null : new TrainingPlan(prior, machines, gpusPerMachine, powerSgdRank);
        out.printf("preset %s%n", preset);
        row("transformer prior", prior.parameterCount());
        row("dVAE", dvae.parameterCount());
        row("contrastive reranker", (preset.equals("tiny") ? ClipConfig.tiny(1024, 0)
                : ClipConfig.paper(prior.textVocab(), prior.padTokenId())).parameterCount());
        if (plan != null) {
            cluster(plan);
        }
        out.flush();
        return 0;
    }

    private void cluster(TrainingPlan plan) {
        TrainingPlan.Bytes b = plan.perGpu();
        out.printf(Locale.ROOT, "%ncluster: %d machines x %d GPUs = %d GPUs; transformer prior, %,d parameters%n",
                plan.machines(), plan.gpusPerMachine(), plan.machines() * plan.gpusPerMachine(), plan.parameterCount());
        out.println("  precision: resblock matrices fp16 weights, gradients and Adam moments, fp32 master copy and");
        out.println("             PowerSGD error buffer; gains, biases, embeddings, unembedding fp32 throughout");
        out.printf(Locale.ROOT, "  per GPU, every array sharded 1/%d inside a machine (ZeRO-3; activations and%n", plan.gpusPerMachine());
        out.println("  the all-gathered block in flight not counted):");
        out.printf(Locale.ROOT, "    %-26s %10s%n", "parameters", bytes(b.parameters()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "gradients", bytes(b.gradients()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "Adam moments (m, v)", bytes(b.adamMoments()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "fp32 master weights", bytes(b.fp32Master()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "PowerSGD error buffers", bytes(b.errorBuffers()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "total", bytes(b.total()));
        out.printf(Locale.ROOT, "    %-26s %10s%n", "total without the last two", bytes(b.total() - b.fp32Master() - b.errorBuffers()));
        out.printf(Locale.ROOT, "  PowerSGD rank %d (%d per GPU) between machines, width d = %d:%n", plan.powerSgdRank(),
                plan.powerSgdRank() / plan.gpusPerMachine(), plan.config().width());
        out.printf(Locale.ROOT, "    %-62s %6.2f%%%n", "paper's formula 1 - 5r/(8d)", 100 * plan.formulaRate());
        out.printf(Locale.ROOT, "    %-62s %6.2f%%%n", "resblock matrices, q/k/v counted apart (the formula's count)",
                100 * plan.paperAccountingRate());
        out.printf(Locale.ROOT, "    %-62s %6.2f%%%n", "resblock matrices of this model (fused qkv)", 100 * plan.matrixRate());
        out.printf(Locale.ROOT, "    %-62s %6.2f%%%n", "all gradient bytes (fp32 non-resblock sent uncompressed)",
                100 * plan.overallByteRate());
    }

    private void row(String what, long params) {
        out.printf("  %-22s %,16d parameters  %10s fp32  %10s fp16%n", what, params, bytes(params * 4),
                bytes(params * 2));
    }

    private static String bytes(long b) {
        String[] u = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format("%.1f %s", v, u[i]);
    }
}
