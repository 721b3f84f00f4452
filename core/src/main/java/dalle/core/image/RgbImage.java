package dalle.core.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * An RGB image as planar floats in [0, 1], channel-major ({@code (3, H, W)}), the layout the
 * models consume. Immutable by convention: never mutate {@link #chw()}.
 */
public record RgbImage(int width, int height, float[] chw) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (chw.length != 3 * width * height) {
            throw new IllegalArgumentException("expected " + 3 * width * height + " values for a " + width + "x"
                    + height + " RGB image, got " + chw.length);
        }
    }

    /** Value of channel {@code c} (0 = R) at column {@code x}, row {@code y}. */
    public float get(int c, int x, int y) {
        return chw[(c * height + y) * width + x];
    }

    /**
     * Converts from a {@link BufferedImage} of any type (alpha is dropped). Grayscale images are
     * read from their raster: {@code getRGB} would treat the stored levels as linear light and
     * brighten them (128 reads as 188).
     */
    public static RgbImage from(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] v = new float[3 * w * h];
        int plane = w * h;
        if (img.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY) {
            java.awt.image.Raster raster = img.getRaster();
            float max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float g = raster.getSample(x, y, 0) / max;
                    int i = y * w + x;
                    v[i] = g;
                    v[plane + i] = g;
                    v[2 * plane + i] = g;
                }
            }
            return new RgbImage(w, h, v);
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int i = y * w + x;
                v[i] = ((rgb >> 16) & 0xff) / 255f;
                v[plane + i] = ((rgb >> 8) & 0xff) / 255f;
                v[2 * plane + i] = (rgb & 0xff) / 255f;
            }
        }
        return new RgbImage(w, h, v);
    }

    /** 8-bit sRGB {@link BufferedImage}; values are clamped to [0, 1] and rounded. */
    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                img.setRGB(x, y, (to8(chw[i]) << 16) | (to8(chw[plane + i]) << 8) | to8(chw[2 * plane + i]));
            }
        }
        return img;
    }

    /** PNG bytes. The encoding is deterministic: the same pixels give the same bytes. */
    public byte[] toPng() {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(toBufferedImage(), "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The image as its 8-bit encoding reads back: every value clamped, rounded to a multiple of 1/255 as
     * {@link #toPng()} stores it, and divided by 255 as {@link #from(BufferedImage)} reads it. Idempotent; equal,
     * value for value, to {@code RgbImage.from(ImageIO.read(png))} of this image's PNG.
     */
    public RgbImage quantized8() {
        float[] q = new float[chw.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = to8(chw[i]) / 255f;
        }
        return new RgbImage(width, height, q);
    }

    private static int to8(float v) {
        return Math.round(Math.max(0f, Math.min(1f, v)) * 255f);
    }

    /** Stacks images of one size into a {@code (B, 3, H, W)} FLOAT32 array on {@code manager}. */
    public static NDArray stack(NDManager manager, List<RgbImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("cannot stack an empty list of images");
        }
        RgbImage first = images.get(0);
        int n = first.chw.length;
        float[] all = new float[n * images.size()];
        for (int i = 0; i < images.size(); i++) {
            RgbImage im = images.get(i);
            if (im.width != first.width || im.height != first.height) {
                throw new IllegalArgumentException("image " + i + " is " + im.width + "x" + im.height + ", expected "
                        + first.width + "x" + first.height);
            }
            System.arraycopy(im.chw, 0, all, i * n, n);
        }
        return manager.create(all, new Shape(images.size(), 3, first.height, first.width));
    }

    /** Splits a {@code (B, 3, H, W)} array into images (values copied to the heap). */
    public static List<RgbImage> unstack(NDArray batch) {
        Shape s = batch.getShape();
        if (s.dimension() != 4 || s.get(1) != 3) {
            throw new IllegalArgumentException("expected (B, 3, H, W), got " + s);
        }
        int b = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        float[] all = batch.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        int n = 3 * h * w;
        RgbImage[] out = new RgbImage[b];
        for (int i = 0; i < b; i++) {
            out[i] = new RgbImage(w, h, java.util.Arrays.copyOfRange(all, i * n, (i + 1) * n));
        }
        return List.of(out);
    }
}
