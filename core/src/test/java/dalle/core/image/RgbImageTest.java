package dalle.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class RgbImageTest {

    @Test
    void pngRoundTripKeepsEightBitValues() throws Exception {
        float[] v = new float[3 * 4 * 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 37 % 256) / 255f;
        }
        RgbImage img = new RgbImage(4, 2, v);
        RgbImage back = RgbImage.from(ImageIO.read(new ByteArrayInputStream(img.toPng())));
        assertArrayEquals(v, back.chw(), 1e-6f);
        assertArrayEquals(img.toPng(), new RgbImage(4, 2, v.clone()).toPng(), "PNG bytes are deterministic");
    }

    @Test
    void quantisedValuesEqualThePngReadBackAndQuantisingTwiceChangesNothing() throws Exception {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
        float[] v = new float[3 * 5 * 3];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextDouble() * 1.4 - 0.2); // some outside [0, 1], clamped like the PNG
        }
        RgbImage img = new RgbImage(5, 3, v);
        RgbImage q = img.quantized8();
        RgbImage back = RgbImage.from(ImageIO.read(new ByteArrayInputStream(img.toPng())));
        assertArrayEquals(back.chw(), q.chw(), 0f);
        assertArrayEquals(q.chw(), q.quantized8().chw(), 0f);
        assertArrayEquals(img.toPng(), q.toPng());
    }

    @Test
    void grayscaleLevelsAreReadAsStoredNotBrightened() {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 128);
        gray.getRaster().setSample(1, 0, 0, 255);
        RgbImage img = RgbImage.from(gray);
        for (int c = 0; c < 3; c++) {
            assertEquals(128 / 255f, img.get(c, 0, 0), 1e-6f);
            assertEquals(1f, img.get(c, 1, 0), 1e-6f);
        }
    }

    @Test
    void contactSheetPlacesCellsRowMajorWithGaps() {
        RgbImage red = solid(2, 1, 0, 0);
        RgbImage blue = solid(2, 0, 0, 1);
        RgbImage sheet = ContactSheet.render(List.of(red, blue, blue), 2, 1, 1);
        assertEquals(2 * 2 + 3, sheet.width());
        assertEquals(2 * 2 + 3, sheet.height());
        assertEquals(1f, sheet.get(0, 1, 1));      // first cell red
        assertEquals(1f, sheet.get(2, 4, 1));      // second cell blue
        assertEquals(1f, sheet.get(2, 1, 4));      // third cell, second row
        assertEquals(0.5f, sheet.get(0, 0, 0));    // gap
        assertEquals(0.5f, sheet.get(0, 4, 4));    // empty fourth cell stays grey
        assertThrows(IllegalArgumentException.class, () -> ContactSheet.render(List.of(), 2, 1, 1));
    }

    private static RgbImage solid(int size, float r, float g, float b) {
        float[] v = new float[3 * size * size];
        int plane = size * size;
        java.util.Arrays.fill(v, 0, plane, r);
        java.util.Arrays.fill(v, plane, 2 * plane, g);
        java.util.Arrays.fill(v, 2 * plane, 3 * plane, b);
        return new RgbImage(size, size, v);
    }
}
