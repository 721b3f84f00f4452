package dalle.training.cluster.powersgd;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact averaging against PowerSGD at several ranks on the same prior, data, workers and steps
 * ({@link SimulatedDataParallel}): final losses, their gap to exact averaging, and gradient bytes
 * sent per worker. Used by a test (short) and by {@code dalle bench powersgd} (longer).
 */
public final class PowerSgdComparison {

    /**
     * @param exact the exact-averaging baseline
     * @param runs  one PowerSGD run per rank, in the order asked
     */
    public record Report(SimulatedDataParallel.Run exact, List<SimulatedDataParallel.Run> runs) {

        /** {@code run}'s final loss relative to the baseline's, minus one (0.03 = 3% higher). */
        public double gap(SimulatedDataParallel.Run run) {
            return run.finalLoss() / exact.finalLoss() - 1;
        }
    }

    private PowerSgdComparison() {}

    /**
     * Runs the baseline, then PowerSGD at each of {@code ranks}, printing one line per run to {@code out}.
     *
     * @param powerSgd every PowerSGD setting but the rank, which each run replaces
     */
    public static Report compare(SimulatedDataParallel.Settings settings, int[] ranks, PowerSgdConfig powerSgd,
                                 PrintWriter out) {
        out.printf("powersgd vs exact averaging: %d workers x %d examples, %d updates, peak lr %s, width %d,"
                        + " %d layers; fresh synthetic examples, loss on %d held out%n", settings.workers(),
                settings.microBatch(), settings.steps(), settings.peakLr(), settings.config().width(),
                settings.config().layers(), settings.evalExamples());
        out.printf("PowerSGD: Q %s, compressed kinds %s, first %d updates exact%n", powerSgd.q(),
                powerSgd.compressedKinds(), powerSgd.exactSteps());
        out.printf("%-10s %11s %9s %15s %15s %9s %8s%n", "exchange", "final loss", "vs exact", "bytes sent",
                "bytes dense", "fewer", "seconds");
        SimulatedDataParallel.Run exact = SimulatedDataParallel.train(settings, "exact", s -> new ExactAveraging());
        print(out, exact, 0);
        List<SimulatedDataParallel.Run> runs = new ArrayList<>();
        for (int rank : ranks) {
            PowerSgdConfig config = powerSgd.withRank(rank);
            SimulatedDataParallel.Run run = SimulatedDataParallel.train(settings, "rank " + rank,
                    specs -> new PowerSgd(config, specs));
            runs.add(run);
            print(out, run, run.finalLoss() / exact.finalLoss() - 1);
        }
        return new Report(exact, runs);
    }

    private static void print(PrintWriter out, SimulatedDataParallel.Run run, double gap) {
        out.printf("%-10s %11.4f %+8.2f%% %15d %15d %8.1fx %8.1f%n", run.label(), run.finalLoss(), 100 * gap,
                run.sentBytes(), run.denseBytes(), run.compression(), run.seconds());
        out.flush();
    }
}
