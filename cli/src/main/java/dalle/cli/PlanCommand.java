package dalle.cli;

import dalle.core.clip.ClipConfig;
import dalle.core.dvae.DvaeConfig;
import dalle.core.transformer.PriorConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalle plan}: model sizes of a preset, computed from the configs without allocating weights. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Parameter counts and fp32/fp16 weight bytes of a preset, without allocating it.")
final class PlanCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "paper", description = "tiny or paper (default ${DEFAULT-VALUE}).")
    String preset;

    @Override
    public Integer call() {
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
        System.out.printf("preset %s%n", preset);
        row("transformer prior", prior.parameterCount());
        row("dVAE", dvae.parameterCount());
        row("contrastive reranker", (preset.equals("tiny") ? ClipConfig.tiny(1024, 0)
                : ClipConfig.paper(prior.textVocab(), prior.padTokenId())).parameterCount());
        return 0;
    }

    private static void row(String what, long params) {
        System.out.printf("  %-22s %,16d parameters  %10s fp32  %10s fp16%n", what, params, bytes(params * 4),
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
