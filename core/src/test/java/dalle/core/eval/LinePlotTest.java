package dalle.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class LinePlotTest {

    static final LinePlot PLOT = new LinePlot("title", "N", "accuracy", true, 0, 100, 640, 360);

    @Test
    void drawsEachSeriesInItsOwnColourOnALog2Axis() throws Exception {
        double[] x = {1, 2, 4, 8, 16, 32};
        byte[] png = PLOT.png(List.of(new LinePlot.Series("a", x, new double[] {0, 10, 20, 30, 40, 50}),
                new LinePlot.Series("b", x, new double[] {90, 80, Double.NaN, 60, 50, 40})));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(640, img.getWidth());
        assertEquals(360, img.getHeight());
        assertTrue(count(img, 0x1f77b4) > 100, "first series drawn in blue");
        assertTrue(count(img, 0xff7f0e) > 100, "second series drawn in orange");
        assertArrayEquals(png, PLOT.png(List.of(new LinePlot.Series("a", x, new double[] {0, 10, 20, 30, 40, 50}),
                new LinePlot.Series("b", x, new double[] {90, 80, Double.NaN, 60, 50, 40}))), "same input, same bytes");

        // Equal steps in log2 x are equal steps in pixels: the grid line at x = 2 sits midway between 1 and 4
        BufferedImage line = PLOT.render(List.of(new LinePlot.Series("a", new double[] {1, 2, 4},
                new double[] {50, 50, 50})));
        List<Integer> marked = new java.util.ArrayList<>();
        int row = 360 - LinePlot.BOTTOM - 5; // below the data and the legend
        for (int c = LinePlot.LEFT - 3; c < 640; c++) {
            if ((line.getRGB(c, row) & 0xffffff) != 0xffffff) {
                marked.add(c);
            }
        }
        int left = marked.get(0);
        int right = marked.get(marked.size() - 1);
        List<Integer> inside = marked.stream().filter(c -> c > left + 1 && c < right - 1).toList();
        assertEquals(1, inside.size(), "one grid line inside the frame: " + marked);
        assertEquals((left + right) / 2.0, inside.get(0), 1.0, "frame " + left + ".." + right);
    }

    @Test
    void refusesNonPositiveXOnALog2AxisAndEmptyInput() {
        assertThrows(IllegalArgumentException.class,
                () -> PLOT.render(List.of(new LinePlot.Series("a", new double[] {0, 1}, new double[] {1, 2}))));
        assertThrows(IllegalArgumentException.class, () -> PLOT.render(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot.Series("a", new double[] {1}, new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("t", "x", "y", true, 1, 1, 640, 360));
    }

    static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }
}
