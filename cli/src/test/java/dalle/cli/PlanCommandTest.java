package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** dalle plan as a user runs it: the paper's cluster without allocating the 12B model. */
class PlanCommandTest {

    @Test
    void paperClusterPlanPrintsShardedBytesAndTheEightySixPercentCompressionRate() {
        CliRun r = CliRun.dalle("plan", "--preset", "paper", "--machines", "128", "--gpus-per-machine", "8",
                "--powersgd-rank", "896");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("cluster: 128 machines x 8 GPUs = 1024 GPUs"), r.out());
        assertTrue(r.out().matches("(?s).*paper's formula 1 - 5r/\\(8d\\) +85\\.89%.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n +parameters +2\\.9 GiB\\n.*"), r.out());
        assertTrue(r.out().contains("Adam moments (m, v)"), r.out());
    }

    @Test
    void withoutMachinesOnlyTheModelSizesArePrinted() {
        CliRun r = CliRun.dalle("plan", "--preset", "tiny");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("transformer prior"), r.out());
        assertTrue(!r.out().contains("cluster:"), r.out());
    }

    @Test
    void aRankThatDoesNotSplitFailsWithOneLine() {
        CliRun r = CliRun.dalle("plan", "--machines", "2", "--powersgd-rank", "900");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("dalle: PowerSGD rank 900 is not divisible by 8 GPUs per machine"), r.err());
    }
}
