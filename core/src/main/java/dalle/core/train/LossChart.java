package dalle.core.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * {@code loss.png}: one panel per loss part (its own y axis, since a KL in nats per image and a
 * reconstruction in nats per pixel-channel differ by orders of magnitude), the step on every x axis.
 * Each panel shows the raw values in a light colour and a moving average over ~2% of the run in a dark one.
 */
final class LossChart {

    static final String FILE = "loss.png";
    static final int WIDTH = 900;
    static final int PANEL_HEIGHT = 230;

    private static final int LEFT = 80;
    private static final int RIGHT = 20;
    private static final int TOP = 30;
    private static final int BOTTOM = 40;
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e)};

    private LossChart() {}

    /**
     * Draws {@code series} of {@code rows} (as logged to {@code metrics.jsonl}) against their {@code step}.
     * Rows without a finite value of a series are left out of its panel.
     */
    static void write(Path png, String title, List<Map<String, Double>> rows, List<String> series) throws IOException {
        int panels = Math.max(1, series.size());
        BufferedImage img = new BufferedImage(WIDTH, panels * PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            for (int i = 0; i < series.size(); i++) {
                String name = series.get(i);
                List<double[]> points = new ArrayList<>();
                for (Map<String, Double> row : rows) {
                    Double y = row.get(name);
                    if (y != null && Double.isFinite(y)) {
                        points.add(new double[] {row.get("step"), y});
                    }
                }
                panel(g, i * PANEL_HEIGHT, (i == 0 ? title + " — " : "") + name, points,
                        COLOURS[i % COLOURS.length]);
            }
        } finally {
            g.dispose();
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static void panel(Graphics2D g, int top, String label, List<double[]> points, Color colour) {
        int x0 = LEFT;
        int x1 = WIDTH - RIGHT;
        int y0 = top + TOP;
        int y1 = top + PANEL_HEIGHT - BOTTOM;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(label, x0, top + 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        if (points.isEmpty()) {
            g.drawString("no data yet", x0 + 10, (y0 + y1) / 2);
            return;
        }
        double minX = points.get(0)[0];
        double maxX = points.get(points.size() - 1)[0];
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (double[] p : points) {
            minY = Math.min(minY, p[1]);
            maxY = Math.max(maxY, p[1]);
        }
        if (maxX <= minX) {
            maxX = minX + 1;
        }
        if (maxY - minY < 1e-9 * Math.max(1, Math.abs(maxY))) {
            minY -= 0.5;
            maxY += 0.5;
        }
        double padY = (maxY - minY) * 0.05;
        minY -= padY;
        maxY += padY;

        // axes, ticks and grid
        FontMetrics fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        double stepY = niceStep(maxY - minY, 5);
        for (double v = Math.ceil(minY / stepY) * stepY; v <= maxY; v += stepY) {
            int y = (int) Math.round(y1 - (y1 - y0) * (v - minY) / (maxY - minY));
            g.setColor(new Color(0xeeeeee));
            g.drawLine(x0, y, x1, y);
            g.setColor(Color.DARK_GRAY);
            String s = number(Math.abs(v) < stepY * 1e-6 ? 0 : v, stepY);
            g.drawString(s, x0 - 6 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
        }
        double stepX = Math.max(1, niceStep(maxX - minX, 6));
        for (double v = Math.ceil(minX / stepX) * stepX; v <= maxX; v += stepX) {
            int x = (int) Math.round(x0 + (x1 - x0) * (v - minX) / (maxX - minX));
            g.setColor(new Color(0xeeeeee));
            g.drawLine(x, y0, x, y1);
            g.setColor(Color.DARK_GRAY);
            String s = Long.toString(Math.round(v));
            g.drawString(s, x - fm.stringWidth(s) / 2, y1 + fm.getAscent() + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(x0, y0, x0, y1);
        g.drawLine(x0, y1, x1, y1);
        g.drawString("step", x1 - fm.stringWidth("step"), y1 + 2 * fm.getAscent() + 8);

        // raw values, light; moving average, dark
        int window = Math.max(1, points.size() / 50);
        Color light = new Color((colour.getRed() + 3 * 255) / 4, (colour.getGreen() + 3 * 255) / 4,
                (colour.getBlue() + 3 * 255) / 4);
        line(g, points, light, 1f, minX, maxX, minY, maxY, x0, x1, y0, y1);
        if (window > 1) {
            List<double[]> smooth = new ArrayList<>(points.size());
            double sum = 0;
            for (int i = 0; i < points.size(); i++) {
                sum += points.get(i)[1];
                if (i >= window) {
                    sum -= points.get(i - window)[1];
                }
                smooth.add(new double[] {points.get(i)[0], sum / Math.min(i + 1, window)});
            }
            line(g, smooth, colour, 2f, minX, maxX, minY, maxY, x0, x1, y0, y1);
        } else {
            line(g, points, colour, 2f, minX, maxX, minY, maxY, x0, x1, y0, y1);
        }
    }

    private static void line(Graphics2D g, List<double[]> points, Color colour, float width, double minX, double maxX,
                             double minY, double maxY, int x0, int x1, int y0, int y1) {
        Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < points.size(); i++) {
            double x = x0 + (x1 - x0) * (points.get(i)[0] - minX) / (maxX - minX);
            double y = y1 - (y1 - y0) * (points.get(i)[1] - minY) / (maxY - minY);
            if (i == 0) {
                path.moveTo(x, y);
            } else {
                path.lineTo(x, y);
            }
        }
        g.setColor(colour);
        g.setStroke(new BasicStroke(width));
        if (points.size() == 1) {
            g.fill(new java.awt.geom.Ellipse2D.Double(path.getCurrentPoint().getX() - 2,
                    path.getCurrentPoint().getY() - 2, 4, 4));
        } else {
            g.draw(path);
        }
    }

    /** A 1-2-5 × 10^k tick spacing giving at most about {@code ticks} ticks over {@code range}. */
    static double niceStep(double range, int ticks) {
        double raw = range / ticks;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double norm = raw / magnitude;
        return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
    }

    /** A tick label with as many decimals as the spacing needs. */
    private static String number(double v, double step) {
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
