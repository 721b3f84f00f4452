package dalle.services.common.stage;

import dalle.core.image.RgbImage;
import dalle.v1.Image;
import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

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

    /**
     * A PNG (or any ImageIO format) read and resampled to {@code size} pixels square if it has another size.
     *
     * @throws FieldException naming {@code field}.png when the bytes are not a readable image
     */
    public static RgbImage read(String field, Image image, int size) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(image.getPng().toByteArray()));
        } catch (IOException e) {
            throw new FieldException(field + ".png", "is not a readable image: " + e.getMessage());
        }
        if (img == null) {
            throw new FieldException(field + ".png", "is not a readable image (" + image.getPng().size() + " bytes)");
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
