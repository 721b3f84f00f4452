package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** dalle bench train-sharded as a user runs it, at one timed step, its workers' collectives over loopback TCP. */
class BenchTrainShardedTest {

    @Test
    void reportsWallAndCpuStepTimesOfShardedWorkersAgainstOneWorker() {
        CliRun r = CliRun.dalle("bench", "train-sharded", "--workers", "2", "--train-batch", "4", "--train-steps", "1",
                "--transport", "tcp");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("collectives over loopback TCP"), r.out());
        Matcher one = row("1 worker \\(batch 4\\)").matcher(r.out());
        Matcher two = row("2 sharded threads \\(2 each\\)").matcher(r.out());
        assertTrue(one.find() && two.find(), r.out());
        double wall1 = Double.parseDouble(one.group(1));
        double cpu1 = Double.parseDouble(one.group(3));
        double wall2 = Double.parseDouble(two.group(1));
        double cpu2 = Double.parseDouble(two.group(3));
        assertTrue(wall1 > 0 && wall2 > 0 && cpu1 > 0 && cpu2 > 0, r.out());
        assertEquals(wall2 / wall1, Double.parseDouble(two.group(2)), 0.01 + 0.001 * wall2 / wall1 / wall1, r.out());
        assertEquals(cpu2 / cpu1, Double.parseDouble(two.group(4)), 0.01 + 0.001 * cpu2 / cpu1 / cpu1, r.out());
    }

    @Test
    void anUnknownTransportIsAOneLineError() {
        CliRun r = CliRun.dalle("bench", "train-sharded", "--transport", "udp");
        assertEquals(2, r.exit());
        assertEquals("dalle: --transport must be inprocess or tcp, got 'udp'", r.err().trim());
    }

    /** A row: wall seconds, wall ratio, CPU seconds, CPU ratio. */
    private static Pattern row(String setup) {
        return Pattern.compile("(?m)^" + setup + " +([0-9.]+) +([0-9.]+)x +([0-9.]+) +([0-9.]+)x$");
    }
}
