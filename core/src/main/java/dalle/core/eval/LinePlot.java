package dalle.core.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * A small line chart drawn with {@code java.awt} into a PNG: one polyline with point markers per
 * series, x on a log2 or linear axis ticked at the series' x values, y on a fixed range, a legend
 * on the right as wide as its longest label needs (up to half the image). Runs headless.
 *
 * @param title drawn above the plot
 * @param xLabel under the x axis
 * @param yLabel beside the y axis
 * @param log2X whether x is spaced by log2 (x values must then be positive)
 * @param yMin bottom of the y axis
 * @param yMax top of the y axis, above {@code yMin}
 * @param width image width in pixels, at least 320
 * @param height image height in pixels, at least 200
 */
public record LinePlot(String title, String xLabel, String yLabel, boolean log2X, double yMin, double yMax,
                       int width, int height) {

    /** One line: points (x[i], y[i]); a NaN y leaves its point out. */
    public record Series(String label, double[] x, double[] y) {
        public Series {
            Objects.requireNonNull(label, "label");
            if (x.length != y.length || x.length == 0) {
                throw new IllegalArgumentException("series '" + label + "': " + x.length + " x values and " + y.length
                        + " y values; need the same positive number");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /** Tableau's ten categorical colours: distinct for most readers, colour-blind included. */
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};
    static final int LEFT = 70;
    /** Space right of the plot before the legend's labels: gap, line sample, gap. */
    private static final int LEGEND_KEY = 44;
    static final int TOP = 40;
    static final int BOTTOM = 60;
    private static final int Y_TICKS = 5;

    public LinePlot {
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(xLabel, "xLabel");
        Objects.requireNonNull(yLabel, "yLabel");
        if (!(yMax > yMin) || !Double.isFinite(yMin) || !Double.isFinite(yMax)) {
            throw new IllegalArgumentException("y range [" + yMin + ", " + yMax + "] must be finite and non-empty");
        }
        if (width < 320 || height < 200) {
            throw new IllegalArgumentException("plot size " + width + "x" + height + " is below 320x200");
        }
    }

    /** Draws {@code series} (at least one). */
    public BufferedImage render(List<Series> series) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("nothing to plot");
        }
        TreeSet<Double> xs = new TreeSet<>();
        for (Series s : series) {
            for (double x : s.x()) {
                if (!Double.isFinite(x) || (log2X && x <= 0)) {
                    throw new IllegalArgumentException("series '" + s.label() + "': x value " + x
                            + (log2X ? " must be positive and finite on a log2 axis" : " must be finite"));
                }
                xs.add(x);
            }
        }
        double lo = tx(xs.first());
        double hi = tx(xs.last());
        if (hi == lo) {
            lo -= 0.5;
            hi += 0.5;
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();

            // the legend takes what its longest label needs, the plot at least half the width
            int legend = LEGEND_KEY + 10 + series.stream().mapToInt(s -> fm.stringWidth(s.label())).max().orElse(0);
            int pw = Math.max(width / 2, width - LEFT - legend);
            int ph = height - TOP - BOTTOM;
            double x0 = lo;
            double xSpan = hi - lo;
            java.util.function.DoubleUnaryOperator px = x -> LEFT + (tx(x) - x0) / xSpan * pw;
            java.util.function.DoubleUnaryOperator py = y -> TOP + (yMax - y) / (yMax - yMin) * ph;

            // grid and ticks
            for (int i = 0; i <= Y_TICKS; i++) {
                double y = yMin + (yMax - yMin) * i / Y_TICKS;
                int yy = (int) Math.round(py.applyAsDouble(y));
                g.setColor(new Color(0xe6e6e6));
                g.drawLine(LEFT, yy, LEFT + pw, yy);
                g.setColor(Color.DARK_GRAY);
                String label = tick(y);
                g.drawString(label, LEFT - 6 - fm.stringWidth(label), yy + fm.getAscent() / 2 - 1);
            }
            for (double x : xs) {
                int xx = (int) Math.round(px.applyAsDouble(x));
                g.setColor(new Color(0xe6e6e6));
                g.drawLine(xx, TOP, xx, TOP + ph);
                g.setColor(Color.DARK_GRAY);
                String label = tick(x);
                g.drawString(label, xx - fm.stringWidth(label) / 2, TOP + ph + fm.getAscent() + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);

            // labels
            g.drawString(xLabel, LEFT + (pw - fm.stringWidth(xLabel)) / 2, height - 18);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, -(TOP + (ph + fm.stringWidth(yLabel)) / 2), 18);
            g.setTransform(saved);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT, TOP - 14);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

            // series and legend
            for (int k = 0; k < series.size(); k++) {
                Series s = series.get(k);
                g.setColor(PALETTE[k % PALETTE.length]);
                g.setStroke(new BasicStroke(2f));
                Path2D.Double line = new Path2D.Double();
                boolean open = false;
                for (int i = 0; i < s.x().length; i++) {
                    if (Double.isNaN(s.y()[i])) {
                        open = false;
                        continue;
                    }
                    double xx = px.applyAsDouble(s.x()[i]);
                    double yy = py.applyAsDouble(s.y()[i]);
                    if (open) {
                        line.lineTo(xx, yy);
                    } else {
                        line.moveTo(xx, yy);
                        open = true;
                    }
                    g.fill(new Ellipse2D.Double(xx - 3.5, yy - 3.5, 7, 7));
                }
                g.draw(line);
                int ly = TOP + 10 + k * 20;
                g.drawLine(LEFT + pw + 14, ly, LEFT + pw + 38, ly);
                g.fill(new Ellipse2D.Double(LEFT + pw + 26 - 3.5, ly - 3.5, 7, 7));
                g.setColor(Color.BLACK);
                g.drawString(s.label(), LEFT + pw + LEGEND_KEY, ly + fm.getAscent() / 2 - 1);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** {@link #render} as PNG bytes. */
    public byte[] png(List<Series> series) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(render(series), "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private double tx(double x) {
        return log2X ? Math.log(x) / Math.log(2) : x;
    }

    /** A short tick label: integers without a fraction, others with up to three decimals. */
    private static String tick(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return new java.math.BigDecimal(v).setScale(3, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros()
                .toPlainString();
    }
}
