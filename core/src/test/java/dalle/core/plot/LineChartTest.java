package dalle.core.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.plot.LineChart.Panel;
import dalle.core.plot.LineChart.Series;
import dalle.core.plot.LineChart.Stroke;
import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
import org.junit.jupiter.api.Test;

class LineChartTest {

    static final LineChart CHART = new LineChart("title", "N", LineChart.XScale.LOG2, true, 640, 360);
    static final Color BLUE = LineChart.PALETTE.get(0);
    static final Color ORANGE = LineChart.PALETTE.get(1);

    @Test
    void drawsEachSeriesInItsOwnColourOnALog2AxisHeadless() throws Exception {
        assertTrue(GraphicsEnvironment.isHeadless(), "tests draw headless, as CI does (surefire.argLine)");
        double[] x = {1, 2, 4, 8, 16, 32};
        byte[] png = CHART.png(accuracy(new Series("a", x, new double[] {0, 10, 20, 30, 40, 50}, BLUE, Stroke.SOLID_WITH_POINTS),
                new Series("b", x, new double[] {90, 80, Double.NaN, 60, 50, 40}, ORANGE, Stroke.SOLID_WITH_POINTS)));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(640, img.getWidth());
        assertEquals(360, img.getHeight());
        assertTrue(count(img, BLUE.getRGB()) > 100, "first series drawn in blue");
        assertTrue(count(img, ORANGE.getRGB()) > 100, "second series drawn in orange");
        assertArrayEquals(png, CHART.png(accuracy(
                new Series("a", x, new double[] {0, 10, 20, 30, 40, 50}, BLUE, Stroke.SOLID_WITH_POINTS),
                new Series("b", x, new double[] {90, 80, Double.NaN, 60, 50, 40}, ORANGE, Stroke.SOLID_WITH_POINTS))),
                "same input, same bytes");
    }

    @Test
    void equalStepsInLog2AreEqualStepsInPixelsAndTicksSitAtTheData() {
        ChartRenderingInfo info = new ChartRenderingInfo();
        BufferedImage img = CHART.render(accuracy(
                new Series("a", new double[] {1, 2, 4}, new double[] {50, 50, 50}, BLUE, Stroke.SOLID_WITH_POINTS)), info);
        Rectangle2D area = info.getPlotInfo().getSubplotInfo(0).getDataArea();
        // a row below the data: only the x grid lines cross it, one per tick, at x = 1, 2 and 4
        int row = (int) (area.getMaxY() - 5);
        List<Double> lines = darkCentres(img, row, (int) area.getMinX() + 2, (int) area.getMaxX() - 2);
        assertEquals(3, lines.size(), "grid lines at 1, 2 and 4: " + lines);
        assertEquals((lines.get(0) + lines.get(2)) / 2, lines.get(1), 1.0, "2 midway between 1 and 4: " + lines);
    }

    @Test
    void aNanLeavesAGapInItsLine() {
        ChartRenderingInfo info = new ChartRenderingInfo();
        BufferedImage img = CHART.render(accuracy(
                new Series("whole", new double[] {1, 2, 4}, new double[] {20, 20, 20}, BLUE, Stroke.SOLID),
                new Series("gap", new double[] {1, 2, 4}, new double[] {70, Double.NaN, 70}, ORANGE, Stroke.SOLID)),
                info);
        Rectangle2D area = info.getPlotInfo().getSubplotInfo(0).getDataArea();
        int column = (int) Math.round(area.getCenterX()); // x = 2: midway, on a log2 axis, between 1 and 4
        assertTrue(inColumn(img, column, area, BLUE) > 0, "the whole line passes x = 2");
        assertEquals(0, inColumn(img, column, area, ORANGE), "the line with a NaN at x = 2 does not");
    }

    @Test
    void stackedPanelsShareXAndFitTheirOwnY() {
        LineChart chart = new LineChart("dvae", "step", LineChart.XScale.LINEAR, false, 900, 3 * 230);
        double[] steps = {1, 2, 3, 4, 5, 6};
        ChartRenderingInfo info = new ChartRenderingInfo();
        BufferedImage img = chart.render(List.of(
                Panel.fitted("kl", List.of(new Series("kl", steps, new double[] {900, 700, 500, 400, 350, 300}, BLUE,
                        Stroke.SOLID))),
                Panel.fitted("reconstruction", List.of(
                        new Series("raw", steps, new double[] {0.9, 0.5, 0.7, 0.3, 0.4, 0.2}, ORANGE, Stroke.FAINT),
                        new Series("average", steps, new double[] {0.9, 0.7, 0.6, 0.45, 0.35, 0.2}, ORANGE,
                                Stroke.SOLID))),
                Panel.fitted("usage", List.of())), info);

        assertEquals(3, info.getPlotInfo().getSubplotCount());
        Rectangle2D top = info.getPlotInfo().getSubplotInfo(0).getDataArea();
        Rectangle2D middle = info.getPlotInfo().getSubplotInfo(1).getDataArea();
        Rectangle2D bottom = info.getPlotInfo().getSubplotInfo(2).getDataArea();
        assertTrue(top.getMaxY() < middle.getMinY() && middle.getMaxY() < bottom.getMinY(), top + " " + middle);
        assertEquals(top.getMinX(), bottom.getMinX(), 0.5, "one x axis");
        // each y axis fits its data: both lines span (nearly) the height of their own panel
        assertTrue(rowsWith(img, top, BLUE) > 0.8 * top.getHeight(), "kl spans its panel");
        assertTrue(rowsWith(img, middle, ORANGE) > 0.8 * middle.getHeight(), "reconstruction spans its panel");
        Color faint = new Color((ORANGE.getRed() + 765) / 4, (ORANGE.getGreen() + 765) / 4, (ORANGE.getBlue() + 765) / 4);
        assertTrue(rowsWith(img, middle, faint) > 0, "raw values in a tint behind their average");
        assertTrue(darkPixels(img, bottom) > 20, "the empty panel says so in words");
    }

    @Test
    void refusesNonPositiveXOnALog2AxisAndEmptyInput() {
        Panel zero = Panel.fixed("y", 0, 100,
                List.of(new Series("a", new double[] {0, 1}, new double[] {1, 2}, BLUE, Stroke.SOLID)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CHART.render(List.of(zero)));
        assertTrue(e.getMessage().contains("series 'a': x value 0.0 must be positive on a log2 axis"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CHART.render(List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new Series("a", new double[] {1}, new double[0], BLUE, Stroke.SOLID));
        assertThrows(IllegalArgumentException.class,
                () -> new Series("a", new double[] {Double.NaN}, new double[] {1}, BLUE, Stroke.SOLID));
        assertThrows(IllegalArgumentException.class, () -> Panel.fixed("y", 1, 1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new LineChart("t", "x", LineChart.XScale.LOG2, true, 100, 360));
    }

    private static List<Panel> accuracy(Series... series) {
        return List.of(Panel.fixed("accuracy", 0, 100, List.of(series)));
    }

    static int count(BufferedImage img, int argb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == (argb & 0xffffff) ? 1 : 0;
            }
        }
        return n;
    }

    /** Centres (darkness-weighted) of the runs of non-white pixels on {@code row} between two columns. */
    private static List<Double> darkCentres(BufferedImage img, int row, int from, int to) {
        List<Double> centres = new ArrayList<>();
        double weight = 0;
        double moment = 0;
        for (int c = from; c <= to + 1; c++) {
            double dark = c > to ? 0 : 255 - (img.getRGB(c, row) & 0xff);
            if (dark > 0) {
                weight += dark;
                moment += dark * c;
            } else if (weight > 0) {
                centres.add(moment / weight);
                weight = 0;
                moment = 0;
            }
        }
        return centres;
    }

    private static int inColumn(BufferedImage img, int column, Rectangle2D area, Color colour) {
        int n = 0;
        for (int y = (int) area.getMinY(); y < area.getMaxY(); y++) {
            n += (img.getRGB(column, y) & 0xffffff) == (colour.getRGB() & 0xffffff) ? 1 : 0;
        }
        return n;
    }

    private static int rowsWith(BufferedImage img, Rectangle2D area, Color colour) {
        int rows = 0;
        for (int y = (int) area.getMinY(); y < area.getMaxY(); y++) {
            for (int x = (int) area.getMinX(); x < area.getMaxX(); x++) {
                if ((img.getRGB(x, y) & 0xffffff) == (colour.getRGB() & 0xffffff)) {
                    rows++;
                    break;
                }
            }
        }
        return rows;
    }

    private static int darkPixels(BufferedImage img, Rectangle2D area) {
        int n = 0;
        for (int y = (int) area.getMinY(); y < area.getMaxY(); y++) {
            for (int x = (int) area.getMinX(); x < area.getMaxX(); x++) {
                n += (img.getRGB(x, y) & 0xff) < 128 ? 1 : 0;
            }
        }
        return n;
    }
}
