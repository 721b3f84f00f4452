package dalle.core.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Line charts as PNG, drawn by JFreeChart into an image (no display needed: it runs with
 * {@code java.awt.headless=true}). The one plotting path of the platform: {@code loss.png} of a training run and
 * {@code accuracy-vs-n.png} of {@code dalle eval} are both drawn here.
 *
 * <p>A chart is one or more {@link Panel}s stacked over one x axis (linear, or log2 ticked at the data's x values);
 * each panel has its own y axis, fixed or fitted to its data, and its series. The same input gives the same PNG bytes.
 *
 * @param title drawn above the panels
 * @param xLabel under the x axis
 * @param xScale how x is spaced
 * @param legend whether a legend (on the right) names the series; {@link Stroke#FAINT} series are left out of it
 * @param width image width in pixels, at least 320
 * @param height image height in pixels, at least 200
 */
public record LineChart(String title, String xLabel, XScale xScale, boolean legend, int width, int height) {

    /** Tableau's ten categorical colours: distinct for most readers, colour-blind included. */
    public static final List<Color> PALETTE = List.of(
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf));

    private static final Color GRID = new Color(0xe6e6e6);

    /** How x is spaced. */
    public enum XScale {
        /** Linear, integer ticks (steps). */
        LINEAR,
        /** log2, ticked at the series' x values, which must be positive (N = 1, 2, 4, ...). */
        LOG2
    }

    /** How a series is drawn. */
    public enum Stroke {
        /** 1 px in a light tint of its colour: raw values behind their average. */
        FAINT,
        /** 2 px. */
        SOLID,
        /** 2 px, a dot on every point. */
        SOLID_WITH_POINTS
    }

    /**
     * One line: points (x[i], y[i]); a NaN y leaves a gap. A series of one point is drawn as a dot.
     *
     * @param label its name in the legend
     * @param colour its colour ({@link #PALETTE} has ten distinct ones)
     * @param stroke how it is drawn
     */
    public record Series(String label, double[] x, double[] y, Color colour, Stroke stroke) {
        public Series {
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(colour, "colour");
            Objects.requireNonNull(stroke, "stroke");
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + label + "': " + x.length + " x values and " + y.length
                        + " y values; need the same number");
            }
            for (double v : x) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("series '" + label + "': x value " + v + " is not finite");
                }
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /**
     * A panel: a y axis and the series drawn against it. An empty panel says "no data yet".
     *
     * @param yLabel beside its y axis
     * @param yMin bottom of the y axis, or NaN (with {@code yMax}) to fit the axis to the data
     * @param yMax top of the y axis, above {@code yMin}, or NaN
     */
    public record Panel(String yLabel, List<Series> series, double yMin, double yMax) {
        public Panel {
            Objects.requireNonNull(yLabel, "yLabel");
            series = List.copyOf(series);
            boolean fitted = Double.isNaN(yMin) && Double.isNaN(yMax);
            if (!fitted && !(Double.isFinite(yMin) && Double.isFinite(yMax) && yMax > yMin)) {
                throw new IllegalArgumentException("panel '" + yLabel + "': y range [" + yMin + ", " + yMax
                        + "] must be finite and non-empty, or NaN for both to fit the data");
            }
        }

        /** A panel whose y axis fits its data. */
        public static Panel fitted(String yLabel, List<Series> series) {
            return new Panel(yLabel, series, Double.NaN, Double.NaN);
        }

        /** A panel with a fixed y range. */
        public static Panel fixed(String yLabel, double yMin, double yMax, List<Series> series) {
            return new Panel(yLabel, series, yMin, yMax);
        }

        boolean isFitted() {
            return Double.isNaN(yMin);
        }
    }

    public LineChart {
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(xLabel, "xLabel");
        Objects.requireNonNull(xScale, "xScale");
        if (width < 320 || height < 200) {
            throw new IllegalArgumentException("chart size " + width + "x" + height + " is below 320x200");
        }
    }

    /** Draws {@code panels} (at least one), top to bottom, sharing the x axis. */
    public BufferedImage render(List<Panel> panels) {
        return render(panels, null);
    }

    /** {@link #render} as PNG bytes. */
    public byte[] png(List<Panel> panels) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(render(panels), "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@link #png} to {@code file} through a temporary sibling, so a reader never sees half a chart. */
    public void write(Path file, List<Panel> panels) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, png(panels));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Renders and fills {@code info} (plot areas, for tests of the geometry) when it is not null. */
    BufferedImage render(List<Panel> panels, ChartRenderingInfo info) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("nothing to plot: no panels");
        }
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(xAxis(panels));
        plot.setGap(12);
        for (Panel p : panels) {
            plot.add(panel(p), 1);
        }
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 14), plot, legend);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(4, 8, 4, 20)); // room for the last x tick label
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        if (legend) {
            LegendTitle l = chart.getLegend();
            l.setPosition(RectangleEdge.RIGHT);
            l.setFrame(BlockBorder.NONE);
            l.setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        }
        return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, info);
    }

    private ValueAxis xAxis(List<Panel> panels) {
        if (xScale == XScale.LINEAR) {
            NumberAxis axis = new NumberAxis(xLabel);
            axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            axis.setAutoRangeIncludesZero(false);
            axis.setLowerMargin(0);
            axis.setUpperMargin(0);
            return style(axis);
        }
        TreeSet<Double> ticks = new TreeSet<>();
        for (Panel p : panels) {
            for (Series s : p.series()) {
                for (double x : s.x()) {
                    if (x <= 0) {
                        throw new IllegalArgumentException("series '" + s.label() + "': x value " + x
                                + " must be positive on a log2 axis");
                    }
                    ticks.add(x);
                }
            }
        }
        return style(new DataTickedLog2Axis(xLabel, List.copyOf(ticks)));
    }

    private XYPlot panel(Panel p) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setDrawSeriesLineAsPath(true);
        for (int i = 0; i < p.series().size(); i++) {
            Series s = p.series().get(i);
            XYSeries xy = new XYSeries(i + ": " + s.label(), false, true);
            for (int k = 0; k < s.x().length; k++) {
                xy.add(s.x()[k], s.y()[k]);
            }
            data.addSeries(xy);
            boolean faint = s.stroke() == Stroke.FAINT;
            renderer.setSeriesPaint(i, faint ? tint(s.colour()) : s.colour());
            renderer.setSeriesStroke(i, new BasicStroke(faint ? 1f : 2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            double r = s.stroke() == Stroke.SOLID_WITH_POINTS ? 3.5 : 2;
            renderer.setSeriesShape(i, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
            renderer.setSeriesShapesVisible(i, s.stroke() == Stroke.SOLID_WITH_POINTS || s.x().length == 1);
            renderer.setSeriesVisibleInLegend(i, !faint);
        }
        renderer.setLegendItemLabelGenerator((dataset, series) -> p.series().get(series).label());
        NumberAxis y = new NumberAxis(p.yLabel());
        if (p.isFitted()) {
            y.setAutoRangeIncludesZero(false);
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (Series s : p.series()) {
                for (double v : s.y()) {
                    if (Double.isFinite(v)) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
            if (hi >= lo && hi - lo < 1e-9 * Math.max(1, Math.abs(hi))) {
                y.setRange(lo - 0.5, hi + 0.5); // one value (or a constant): a unit around it, not a sliver
            }
        } else {
            y.setRange(p.yMin(), p.yMax());
        }
        XYPlot plot = new XYPlot(data, null, style(y), renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Color.BLACK);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setNoDataMessage("no data yet");
        return plot;
    }

    private static <A extends ValueAxis> A style(A axis) {
        axis.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        axis.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        axis.setTickLabelPaint(Color.DARK_GRAY);
        return axis;
    }

    /** The colour a quarter strength on white: raw values drawn behind their average. */
    private static Color tint(Color c) {
        return new Color((c.getRed() + 3 * 255) / 4, (c.getGreen() + 3 * 255) / 4, (c.getBlue() + 3 * 255) / 4);
    }

    /** A log2 axis whose ticks (and grid lines) are the data's own x values, labelled as numbers, not powers. */
    private static final class DataTickedLog2Axis extends LogAxis {
        private final List<Double> ticks;

        DataTickedLog2Axis(String label, List<Double> ticks) {
            super(label);
            this.ticks = ticks;
            setBase(2);
            setLowerMargin(0.04);
            setUpperMargin(0.04);
        }

        @Override
        public List<NumberTick> refreshTicks(Graphics2D g2, AxisState state, Rectangle2D dataArea, RectangleEdge edge) {
            List<NumberTick> out = new ArrayList<>();
            for (double x : ticks) {
                String text = x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
                out.add(new NumberTick(TickType.MAJOR, x, text, TextAnchor.TOP_CENTER, TextAnchor.CENTER, 0));
            }
            return out;
        }
    }
}
