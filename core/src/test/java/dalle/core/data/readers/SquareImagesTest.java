package dalle.core.data.readers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dalle.core.image.RgbImage;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class SquareImagesTest {

    @Test
    void solidColourSurvivesDownscaleExactly() {
        RgbImage out = SquareImages.centreCropResize(Fixtures.solid(300, 200, new Color(10, 200, 77)), 64);
        assertEquals(64, out.width());
        assertEquals(64, out.height());
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                assertEquals(10 / 255f, out.get(0, x, y), 1e-6);
                assertEquals(200 / 255f, out.get(1, x, y), 1e-6);
                assertEquals(77 / 255f, out.get(2, x, y), 1e-6);
            }
        }
    }

    @Test
    void centreCropKeepsTheMiddleThirdOfAWideImage() {
        // Given red | green | blue thirds, each 100 px wide
        BufferedImage img = new BufferedImage(300, 100, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 100; y++) {
            for (int x = 0; x < 300; x++) {
                img.setRGB(x, y, x < 100 ? 0xff0000 : x < 200 ? 0x00ff00 : 0x0000ff);
            }
        }
        // When cropped to the centre square and shrunk, Then only green is left
        RgbImage out = SquareImages.centreCropResize(img, 10);
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 10; x++) {
                assertEquals(0f, out.get(0, x, y), 1e-6);
                assertEquals(1f, out.get(1, x, y), 1e-6);
                assertEquals(0f, out.get(2, x, y), 1e-6);
            }
        }
    }

    @Test
    void centreCropOfATallImageKeepsTheMiddleRows() {
        float[] chw = new float[3 * 1 * 3]; // 1 wide, 3 tall: rows 0, 0.5, 1 in every channel
        for (int c = 0; c < 3; c++) {
            chw[c * 3] = 0f;
            chw[c * 3 + 1] = 0.5f;
            chw[c * 3 + 2] = 1f;
        }
        RgbImage out = SquareImages.centreCropResize(new RgbImage(1, 3, chw), 1);
        assertEquals(0.5f, out.get(0, 0, 0), 1e-6);
    }

    @Test
    void areaAveragingTurnsAOnePixelCheckerboardIntoMidGrey() {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                img.setRGB(x, y, (x + y) % 2 == 0 ? 0xffffff : 0);
            }
        }
        RgbImage out = SquareImages.centreCropResize(img, 4);
        for (float v : out.chw()) {
            assertEquals(0.5f, v, 1e-6);
        }
    }

    @Test
    void areaAveragingWeighsPartlyCoveredPixelsByTheirOverlap() {
        // Columns 0, 1, 0 shrunk to 2: each output covers 1.5 source pixels, so (1*0 + 0.5*1) / 1.5 = 1/3
        float[] plane = {0, 1, 0, 0, 1, 0, 0, 1, 0};
        float[] chw = new float[27];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(plane, 0, chw, 9 * c, 9);
        }
        RgbImage out = SquareImages.centreCropResize(new RgbImage(3, 3, chw), 2);
        for (float v : out.chw()) {
            assertEquals(1f / 3f, v, 1e-6);
        }
    }

    @Test
    void upscalingInterpolatesBilinearlyWithAlignedPixelCentres() {
        // Columns 0, 1 grown to 4: sample points -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
        float[] chw = new float[12];
        for (int c = 0; c < 3; c++) {
            chw[4 * c + 1] = 1;
            chw[4 * c + 3] = 1;
        }
        RgbImage out = SquareImages.centreCropResize(new RgbImage(2, 2, chw), 4);
        float[] row = new float[4];
        for (int x = 0; x < 4; x++) {
            row[x] = out.get(1, x, 2);
        }
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, row, 1e-6f);
    }

    @Test
    void sameSizeIsACopy() {
        float[] chw = new float[3 * 4 * 4];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = i / (float) chw.length;
        }
        assertArrayEquals(chw, SquareImages.centreCropResize(new RgbImage(4, 4, chw), 4).chw());
    }

    @Test
    void grayscaleImagesKeepTheirStoredLevels() throws IOException {
        // getRGB on a gray image would report 128 as ~188 (it treats gray as linear light)
        BufferedImage gray = new BufferedImage(6, 6, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                gray.getRaster().setSample(x, y, 0, 128);
            }
        }
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(Fixtures.png(gray)));
        RgbImage out = SquareImages.centreCropResize(decoded, 3);
        for (float v : out.chw()) {
            assertEquals(128 / 255f, v, 1e-6);
        }
    }

    @Test
    void rasterFastPathAgreesWithGetRgbForCommonImageTypes() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB,
                BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_BGR}) {
            BufferedImage img = new BufferedImage(7, 7, type);
            for (int y = 0; y < 7; y++) {
                for (int x = 0; x < 7; x++) {
                    img.setRGB(x, y, 0xff000000 | rng.nextInt(1 << 24));
                }
            }
            assertArrayEquals(RgbImage.from(img).chw(), SquareImages.centreCropResize(img, 7).chw(), "type " + type);
        }
    }
}
