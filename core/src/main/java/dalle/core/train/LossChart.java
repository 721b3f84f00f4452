package dalle.core.train;

import dalle.core.plot.LineChart;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code loss.png}: one panel per loss part (its own y axis, since a KL in nats per image and a reconstruction in
 * nats per pixel-channel differ by orders of magnitude), the step on the shared x axis. Each panel shows the raw
 * values faint and a moving average over ~2% of the run solid, in the part's colour. Drawn by {@link LineChart}.
 */
final class LossChart {

    static final String FILE = "loss.png";
    static final int WIDTH = 900;
    static final int PANEL_HEIGHT = 230;

    private LossChart() {}

    /**
     * Draws {@code series} of {@code rows} (as logged to {@code metrics.jsonl}) against their {@code step}.
     * Rows without a finite value of a series are left out of its panel.
     */
    static void write(Path png, String title, List<Map<String, Double>> rows, List<String> series) throws IOException {
        List<LineChart.Panel> panels = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            panels.add(panel(series.get(i), rows, LineChart.PALETTE.get(i % LineChart.PALETTE.size())));
        }
        if (panels.isEmpty()) {
            panels.add(LineChart.Panel.fitted("loss", List.of()));
        }
        new LineChart(title, "step", LineChart.XScale.LINEAR, false, WIDTH, panels.size() * PANEL_HEIGHT)
                .write(png, panels);
    }

    private static LineChart.Panel panel(String name, List<Map<String, Double>> rows, Color colour) {
        List<double[]> points = new ArrayList<>();
        for (Map<String, Double> row : rows) {
            Double y = row.get(name);
            if (y != null && Double.isFinite(y)) {
                points.add(new double[] {row.get("step"), y});
            }
        }
        double[] x = new double[points.size()];
        double[] raw = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = points.get(i)[0];
            raw[i] = points.get(i)[1];
        }
        int window = Math.max(1, x.length / 50);
        if (window == 1) {
            return LineChart.Panel.fitted(name, List.of(new LineChart.Series(name, x, raw, colour, LineChart.Stroke.SOLID)));
        }
        return LineChart.Panel.fitted(name, List.of(
                new LineChart.Series(name, x, raw, colour, LineChart.Stroke.FAINT),
                new LineChart.Series(name + ", moving average", x, movingAverage(raw, window), colour,
                        LineChart.Stroke.SOLID)));
    }

    /** The mean of each value and the {@code window - 1} before it (fewer at the start). */
    static double[] movingAverage(double[] v, int window) {
        double[] out = new double[v.length];
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            sum += v[i];
            if (i >= window) {
                sum -= v[i - window];
            }
            out[i] = sum / Math.min(i + 1, window);
        }
        return out;
    }
}
