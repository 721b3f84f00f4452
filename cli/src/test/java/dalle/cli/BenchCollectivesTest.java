package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** dalle bench collectives as a user runs it, at sizes that take milliseconds. */
class BenchCollectivesTest {

    @Test
    void reportsRawLoopbackAndTheFairShareOfConcurrentStreamsThenAlgbwBusbwAndBothRatiosPerSize() {
        CliRun r = CliRun.dalle("bench", "collectives", "--workers", "3", "--sizes", "64KiB,1MiB", "--repeat", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("raw loopback TCP, one stream of 256MiB:"), r.out());
        Matcher fair = Pattern.compile("raw loopback TCP, 3 concurrent streams of 256MiB: ([0-9.]+) GB/s aggregate,"
                + " ([0-9.]+) GB/s per stream").matcher(r.out());
        assertTrue(r.out().contains("fair = one stream's share of 3 concurrent streams carrying a ring link's bytes"),
                r.out());
        assertTrue(fair.find(), r.out());
        assertEquals(Double.parseDouble(fair.group(1)) / 3, Double.parseDouble(fair.group(2)), 0.01,
                "the fair share is the aggregate over the 3 streams");
        for (String size : new String[] {"64KiB", "1MiB"}) {
            Matcher m = Pattern.compile("(?m)^" + size
                    + " +3 +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9.]+)$").matcher(r.out());
            assertTrue(m.find(), "row for " + size + " in\n" + r.out());
            double algbw = Double.parseDouble(m.group(2));
            double busbw = Double.parseDouble(m.group(3));
            assertEquals(algbw * 2 * 2 / 3, busbw, 0.002 + 1e-3 * busbw, "busbw = algbw * 2(n-1)/n");
            assertTrue(Double.parseDouble(m.group(4)) > 0, "busbw/raw is positive");
            double share = Double.parseDouble(m.group(5));
            assertTrue(share > 0, "the fair share measured beside the all-reduces");
            // with --repeat 1 the median of the paired ratios is the one ratio; busbw and the share are printed
            // to 3 decimals (each within 0.0005 of its value), which at small sizes moves their quotient a lot
            double ratio = Double.parseDouble(m.group(6));
            double low = (busbw - 0.0005) / (share + 0.0005) - 0.0005;
            double high = share > 0.0005 ? (busbw + 0.0005) / (share - 0.0005) + 0.0005 : Double.POSITIVE_INFINITY;
            assertTrue(ratio >= low && ratio <= high, "busbw/fair = busbw over one stream's share of the concurrent"
                    + " aggregate: " + ratio + " not within [" + low + ", " + high + "] of " + busbw + " / " + share);
        }
    }

    @Test
    void sizesThatAreNotWholeFloatsFailWithOneLine() {
        CliRun r = CliRun.dalle("bench", "collectives", "--sizes", "10");
        assertEquals(2, r.exit());
        assertEquals("dalle: --sizes: '10' is not a positive multiple of 4 bytes (e.g. 16MiB)", r.err().trim());
    }
}
