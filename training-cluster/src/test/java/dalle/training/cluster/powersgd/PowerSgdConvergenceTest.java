package dalle.training.cluster.powersgd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.nn.Parameter;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * The short version of {@code dalle bench powersgd}: a two-layer prior of width 128 trained by two
 * simulated workers, exact averaging vs PowerSGD rank 4, the same 600 updates. The tiny prior's
 * longer comparison is the bench's job (minutes per run on two cores).
 */
class PowerSgdConvergenceTest {

    /** Two layers of width 128 over a 4×4 grid of 64 codes: the resblock matrices carry most of the bytes, as in tiny. */
    static final PriorConfig SMALL = new PriorConfig(16, 8, 0, 64, 4, 128, 4, 2, 3, 4);

    @Test
    void rank4EndsWithin5PercentOfExactAveragingWhileSendingAtLeast10TimesFewerBytes() {
        SimulatedDataParallel.Settings settings = new SimulatedDataParallel.Settings(SMALL, 2, 4, 600, 3e-3f, 64, 1);
        PowerSgdConfig powerSgd = PowerSgdConfig.paper(4, 1).withQ(PowerSgdConfig.QStart.WARM_START)
                .withCompressedKinds(EnumSet.of(Parameter.Kind.WEIGHT, Parameter.Kind.UNEMBEDDING));

        PowerSgdComparison.Report report = PowerSgdComparison.compare(settings, new int[] {4}, powerSgd,
                new PrintWriter(System.out, true));

        SimulatedDataParallel.Run rank4 = report.runs().get(0);
        assertTrue(report.exact().finalLoss() < 0.5 * report.exact().losses()[0],
                "exact averaging learned: " + report.exact().finalLoss());
        assertTrue(report.gap(rank4) < 0.05, "rank 4 ends " + 100 * report.gap(rank4) + "% above exact averaging");
        assertTrue(rank4.compression() >= 10, "rank 4 sends " + rank4.compression() + "x fewer bytes");
        assertTrue(rank4.skipped() == 0 && report.exact().skipped() == 0, "no update skipped");
    }

    @Test
    void onTheTinyPriorEveryRankFrom1To4SendsAtLeast10TimesFewerBytesWhenTheUnembeddingIsCompressed() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior tiny = new DallePrior(manager, PriorConfig.tiny(16, 0), 1);
            for (int rank = 1; rank <= 4; rank++) {
                CompressionPlan plan = new CompressionPlan(PowerSgdConfig.paper(rank, 1).withCompressedKinds(
                        EnumSet.of(Parameter.Kind.WEIGHT, Parameter.Kind.UNEMBEDDING)),
                        TensorSpec.of(tiny.parameters()));
                CompressionPlan paper = new CompressionPlan(PowerSgdConfig.paper(rank, 1),
                        TensorSpec.of(tiny.parameters()));
                System.out.printf("tiny prior, rank %d: %s; the paper's kinds (unembedding dense): %s%n", rank,
                        plan.summary(), paper.summary());
                assertTrue(plan.denseBytes() >= 10 * plan.sentBytes(), "rank " + rank + ": " + plan.summary());
            }
        }
    }
}
