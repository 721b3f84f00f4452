package dalle.services.common.stage;

import dalle.core.image.RgbImage;
import dalle.v1.Image;
import dalle.v1.RawImage;
import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Images on the wire: {@link Image} messages carry PNG bytes. Coding is deterministic (the same pixels give the
 * same bytes), so every path that decodes the same grid sends the same PNG.
 */
public final class Pngs {

    private Pngs() {
    }

    /** An image as its wire message (deterministic PNG). */
    public static Image image(RgbImage img) {
        return Image.newBuilder().setPng(com.google.protobuf.ByteString.copyFrom(img.toPng()))
                .setWidth(img.width()).setHeight(img.height()).build();
    }

    /** The most pixels an incoming image may declare (4096 × 4096): its size is read before its pixels. */
    public static final long MAX_PIXELS = 4096L * 4096L;

    /**
     * A PNG (or any ImageIO format) read and resampled to {@code size} pixels square if it has another size. The
     * declared width and height are checked before any pixel is decoded, so a small file that declares a huge
     * image costs nothing.
     *
     * @throws FieldException naming {@code field}.png when the bytes are not a readable image, or declare more than
     *     {@link #MAX_PIXELS} pixels
     */
    public static RgbImage read(String field, Image image, int size) {
        BufferedImage img;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(
                image.getPng().toByteArray()))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new FieldException(field + ".png", "is not a readable image (" + image.getPng().size()
                        + " bytes in no format this server reads)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > MAX_PIXELS) {
                    throw new FieldException(field + ".png", "declares " + w + "x" + h + " pixels; at most "
                            + MAX_PIXELS + " (4096x4096) are read");
                }
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof FieldException f) {
                throw f;
            }
            throw new FieldException(field + ".png", "is not a readable image: " + e.getMessage());
        }
        return RgbImage.from(resize(img, size));
    }

    /** The 8-bit samples of an image, as its PNG ({@link RgbImage#toPng()}) stores them, without the PNG. */
    public static RawImage raw(RgbImage img) {
        BufferedImage b = img.toBufferedImage();
        byte[] rgb = new byte[img.width() * img.height() * 3];
        int i = 0;
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                int p = b.getRGB(x, y);
                rgb[i++] = (byte) (p >> 16);
                rgb[i++] = (byte) (p >> 8);
                rgb[i++] = (byte) p;
            }
        }
        return RawImage.newBuilder().setWidth(img.width()).setHeight(img.height())
                .setRgb(com.google.protobuf.ByteString.copyFrom(rgb)).build();
    }

    /**
     * A raw image read and resampled to {@code size} pixels square if it has another size: exactly what
     * {@link #read} gives for the PNG of the same pixels.
     *
     * @throws FieldException naming {@code field} when the size is outside 1..4096 or the bytes are not
     *     width × height × 3
     */
    public static RgbImage read(String field, RawImage image, int size) {
        int w = image.getWidth();
        int h = image.getHeight();
        if (w < 1 || h < 1 || (long) w * h > MAX_PIXELS) {
            throw new FieldException(field, w + "x" + h + " pixels is outside 1x1.." + "4096x4096");
        }
        if (image.getRgb().size() != w * h * 3) {
            throw new FieldException(field + ".rgb", image.getRgb().size() + " bytes, but " + w + "x" + h
                    + " pixels take " + (w * h * 3));
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        byte[] rgb = image.getRgb().toByteArray();
        int i = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff));
                i += 3;
            }
        }
        return RgbImage.from(resize(img, size));
    }

    /** The image at {@code size} pixels square (0 or its own size = the same message, unchanged bytes). */
    public static Image resized(Image image, int size) {
        if (size == 0 || (image.getWidth() == size && image.getHeight() == size)) {
            return image;
        }
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(image.getPng().toByteArray()));
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(resize(img, size), "png", png);
            return Image.newBuilder().setPng(com.google.protobuf.ByteString.copyFrom(png.toByteArray()))
                    .setWidth(size).setHeight(size).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bilinear resampling to {@code size} pixels square; the image itself when it already is. */
    public static BufferedImage resize(BufferedImage img, int size) {
        if (img.getWidth() == size && img.getHeight() == size) {
            return img;
        }
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        rgb.getGraphics().drawImage(img, 0, 0, null);
        var scale = AffineTransform.getScaleInstance((double) size / img.getWidth(), (double) size / img.getHeight());
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        return new AffineTransformOp(scale, AffineTransformOp.TYPE_BILINEAR).filter(rgb, out);
    }
}
