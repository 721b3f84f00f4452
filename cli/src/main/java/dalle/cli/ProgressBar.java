package dalle.cli;

import java.io.PrintStream;

/**
 * A progress line on stderr: stage, bar, done/total, rate and ETA. Redrawn in place on a
 * terminal at most every 100 ms; when stderr is not a terminal (logs, CI), one line per
 * stage start, every 25%, and at the end.
 */
final class ProgressBar {

    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream err;
    private final boolean terminal = System.console() != null;
    private String stage = "";
    private long stageStart;
    private long lastDraw;
    private int lastQuarter = -1;
    private boolean open;

    ProgressBar(PrintStream err) {
        this.err = err;
    }

    synchronized void update(String newStage, int done, int total) {
        long now = System.nanoTime();
        if (!newStage.equals(stage)) {
            finish();
            stage = newStage;
            stageStart = now;
            lastDraw = 0;
            lastQuarter = -1;
        }
        boolean last = done >= total;
        if (terminal) {
            if (!last && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            err.print("\r" + line(done, total, now) + " ");
            open = true;
        } else {
            int quarter = total == 0 ? 4 : (int) (4L * done / total);
            if (quarter == lastQuarter && !last) {
                return;
            }
            lastQuarter = quarter;
            err.println(line(done, total, now));
        }
        err.flush();
        lastDraw = now;
    }

    private String line(int done, int total, long now) {
        double secs = (now - stageStart) / 1e9;
        int width = 30;
        int filled = total == 0 ? width : (int) ((long) width * done / total);
        String rate = secs > 0.05 && done > 0
                ? String.format("%.1f/s  ETA %.0fs", done / secs, (total - done) / (done / secs))
                : "";
        return String.format("%-7s [%s%s] %d/%d  %s", stage, "#".repeat(filled), ".".repeat(width - filled), done,
                total, rate);
    }

    synchronized void finish() {
        if (open) {
            err.println();
        }
        open = false;
    }
}
