package dalle.cli;

import dalle.training.cluster.comm.CollectivesBench;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * {@code dalle bench collectives}: the table of {@link CollectivesBench}'s measurements. Two ceilings,
 * both measured in the same run: one raw loopback stream ({@code busbw/raw}), and the per-stream share of
 * W concurrent streams ({@code busbw/fair} = busbw ÷ (aggregate of W streams ÷ W)): a ring of W links
 * runs W streams at once, which share this machine's CPUs, so W × busbw against the W streams' aggregate
 * is the fair comparison. The fair share is measured again right before each all-reduce, and the ratio
 * taken pair by pair, so that a shared machine's changing load weighs on both sides alike.
 */
final class CollectivesBenchReport {

    private CollectivesBenchReport() {}

    static int run(PrintWriter out, int workers, List<String> sizes, int repeat) {
        if (workers < 2) {
            throw new IllegalArgumentException("--workers must be at least 2 for a ring, got " + workers);
        }
        long[] bytes = sizes.stream().mapToLong(CollectivesBenchReport::parseBytes).toArray();
        long largest = java.util.Arrays.stream(bytes).max().orElse(0);
        long heap = Runtime.getRuntime().maxMemory();
        if (largest * workers > heap * 3 / 4) {
            throw new IllegalArgumentException("--sizes " + largest + " B x " + workers + " workers does not fit in "
                    + heap / (1 << 20) + " MiB of heap (raise -Xmx via DALLE_JAVA_OPTS)");
        }
        long rawBytes = Math.max(256L << 20, largest);
        double raw = CollectivesBench.rawLoopback(rawBytes, repeat);
        double ceiling = CollectivesBench.concurrentLoopback(workers, rawBytes, repeat);
        out.printf(Locale.ROOT, "bench collectives: ring all-reduce over loopback TCP, %d worker threads"
                + " (each with its own sockets) in one JVM, %d cpus, median of %d%n", workers,
                Runtime.getRuntime().availableProcessors(), repeat);
        out.printf(Locale.ROOT, "raw loopback TCP, one stream of %s: %.2f GB/s (median of %d)%n",
                human(rawBytes), raw / 1e9, repeat);
        out.printf(Locale.ROOT, "raw loopback TCP, %d concurrent streams of %s: %.2f GB/s aggregate, %.2f GB/s per"
                + " stream (median of %d)%n", workers, human(rawBytes), ceiling / 1e9, ceiling / workers / 1e9, repeat);
        out.printf(Locale.ROOT, "fair = one stream's share of %d concurrent streams carrying a ring link's bytes, measured"
                + " right before each all-reduce; busbw/fair = median of the paired ratios%n", workers);
        out.printf(Locale.ROOT, "%-10s %8s %10s %12s %12s %11s %10s %11s%n", "size", "workers", "seconds",
                "algbw GB/s", "busbw GB/s", "busbw/raw", "fair GB/s", "busbw/fair");
        for (long b : bytes) {
            CollectivesBench.AllReduceResult r = CollectivesBench.allReduceOverTcp(workers, b, repeat);
            out.printf(Locale.ROOT, "%-10s %8d %10.4f %12.3f %12.3f %11.3f %10.3f %11.3f%n", human(b), workers,
                    r.seconds(), r.algbw() / 1e9, r.busbw() / 1e9, r.busbw() / raw, r.fairShare() / 1e9,
                    r.busbwOverFair());
            out.flush();
        }
        return 0;
    }

    /** "16MiB", "512KiB", "1GiB" or plain bytes; a whole number of floats. */
    static long parseBytes(String s) {
        String t = s.trim();
        long unit = 1;
        for (String[] u : new String[][] {{"KiB", "1024"}, {"MiB", "1048576"}, {"GiB", "1073741824"}}) {
            if (t.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        try {
            long v = Long.parseLong(t) * unit;
            if (v <= 0 || v % 4 != 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--sizes: '" + s + "' is not a positive multiple of 4 bytes (e.g. 16MiB)");
        }
    }

    private static String human(long b) {
        return b % (1L << 30) == 0 ? b / (1L << 30) + "GiB" : b % (1L << 20) == 0 ? b / (1L << 20) + "MiB"
                : b % 1024 == 0 ? b / 1024 + "KiB" : b + "B";
    }
}
