package dalle.cli;

import dalle.core.train.StepMetrics;
import dalle.core.train.TrainingListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The training progress line on stderr: step, losses, learning rate, τ/β, steps/s and ETA. Redrawn in
 * place on a terminal (at most every 200 ms); otherwise (logs, CI) one line per 5% of the run or per
 * minute, whichever comes first, and a line per checkpoint.
 */
final class TrainProgress implements TrainingListener {

    private static final long REDRAW_NANOS = 200_000_000L;
    private static final long LOG_NANOS = 60_000_000_000L;

    private final PrintStream err;
    private final String name;
    private final boolean terminal = System.console() != null;
    private long lastDraw;
    private long lastTwentieth = -1;
    private boolean open;

    TrainProgress(PrintStream err, String name) {
        this.err = err;
        this.name = name;
    }

    @Override
    public void onStep(StepMetrics m) {
        long now = System.nanoTime();
        boolean last = m.step() >= m.totalSteps();
        if (terminal) {
            if (!last && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            err.print("\r" + line(m) + "  ");
            open = true;
        } else {
            long twentieth = 20 * m.step() / m.totalSteps();
            if (!last && twentieth == lastTwentieth && now - lastDraw < LOG_NANOS) {
                return;
            }
            lastTwentieth = twentieth;
            err.println(line(m));
        }
        err.flush();
        lastDraw = now;
    }

    @Override
    public void onCheckpoint(long step, Path dir) {
        if (!terminal) {
            err.println(name + "  checkpoint at step " + step + " -> " + dir);
        }
    }

    @Override
    public void onNote(String message) {
        finish();
        err.println("dalle: " + message);
    }

    void finish() {
        if (open) {
            err.println();
            open = false;
        }
    }

    private String line(StepMetrics m) {
        StringBuilder sb = new StringBuilder();
        int digits = Long.toString(m.totalSteps()).length();
        sb.append(String.format(Locale.ROOT, "%s  step %" + digits + "d/%d ", name, m.step(), m.totalSteps()));
        for (Map.Entry<String, Float> e : m.losses().entrySet()) {
            sb.append(String.format(Locale.ROOT, " %s %s", e.getKey(), number(e.getValue())));
        }
        sb.append(String.format(Locale.ROOT, "  lr %.2e", m.lr()));
        for (Map.Entry<String, Float> e : m.schedule().entrySet()) {
            sb.append(String.format(Locale.ROOT, " %s %s", e.getKey(), number(e.getValue())));
        }
        if (m.skipped()) {
            sb.append("  SKIPPED (non-finite)");
        }
        double rate = m.stepsPerSecond();
        sb.append(String.format(Locale.ROOT, "  %.2f steps/s", rate));
        if (rate > 0 && m.step() < m.totalSteps()) {
            sb.append("  ETA ").append(duration((m.totalSteps() - m.step()) / rate));
        }
        return sb.toString();
    }

    private static String number(float v) {
        float a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 || (a < 0.01 && a != 0) ? "%.3g" : "%.4f", v);
    }

    /** 75 -> "1m15s", 4000 -> "1h06m". */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
