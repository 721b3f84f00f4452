package dalle.services.app.stage;

import dalle.core.image.RgbImage;
import dalle.v1.CodeGrid;
import dalle.v1.Image;
import dalle.v1.ModelInfo;
import dalle.v1.TokenizeResponse;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The stage computations that gRPC and Kafka share, around core's {@link dalle.core.pipeline.Pipeline} stage
 * methods, and the checks of their wire inputs. Call them on a stage thread (they run the models).
 */
public final class StageWork {

    /** Most grids per Decode call and images per Score call (common.proto's cap). */
    public static final int MAX_BATCH = 64;

    private StageWork() {
    }

    /** Caption to raw and padded BPE ids, as {@link dalle.core.pipeline.Pipeline#tokenize}. */
    public static TokenizeResponse tokenize(StageModel model, String caption) {
        int textLength = model.info().getTextLength();
        int[] raw = model.bundle().tokenizer().encode(caption);
        int[] padded = model.pipeline().tokenize(caption);
        TokenizeResponse.Builder b = TokenizeResponse.newBuilder()
                .setTextLength(textLength)
                .setTruncated(raw.length > textLength)
                .setBundleVersion(model.version());
        for (int i = 0; i < Math.min(raw.length, textLength); i++) {
            b.addIds(raw[i]);
        }
        for (int id : padded) {
            b.addPaddedIds(id);
        }
        return b.build();
    }

    /**
     * A grid's codes, checked against the model.
     *
     * @throws FieldException naming {@code field}.grid_size or {@code field}.codes
     */
    public static int[] codes(String field, CodeGrid grid, ModelInfo info) {
        if (grid.getGridSize() != info.getGridSize()) {
            throw new FieldException(field + ".grid_size", grid.getGridSize() + " differs from the model's "
                    + info.getGridSize());
        }
        int cells = info.getGridSize() * info.getGridSize();
        if (grid.getCodesCount() != cells) {
            throw new FieldException(field + ".codes", "has " + grid.getCodesCount() + " codes, a "
                    + info.getGridSize() + "x" + info.getGridSize() + " grid has " + cells);
        }
        int[] codes = new int[cells];
        for (int i = 0; i < cells; i++) {
            int c = grid.getCodes(i);
            if (c < 0 || c >= info.getImageVocabSize()) {
                throw new FieldException(field + ".codes[" + i + "]", c + " is outside the codebook [0, "
                        + info.getImageVocabSize() + ")");
            }
            codes[i] = c;
        }
        return codes;
    }

    /** The grid message of sampled codes. */
    public static CodeGrid grid(int[] codes, ModelInfo info) {
        CodeGrid.Builder b = CodeGrid.newBuilder().setGridSize(info.getGridSize());
        for (int c : codes) {
            b.addCodes(c);
        }
        return b.build();
    }

    /** Decodes grids to PNG images with the dVAE decoder, in order. */
    public static List<Image> decode(StageModel model, List<int[]> grids) {
        List<Image> out = new ArrayList<>(grids.size());
        for (RgbImage img : model.pipeline().decode(grids, dalle.core.pipeline.Pipeline.Progress.NONE)) {
            out.add(image(img));
        }
        return out;
    }

    /** Scores images against padded text tokens with the reranker. */
    public static float[] score(StageModel model, int[] text, List<RgbImage> images) {
        return model.pipeline().score(text, images, dalle.core.pipeline.Pipeline.Progress.NONE);
    }

    /** An image as its wire message (deterministic PNG). */
    public static Image image(RgbImage img) {
        return Image.newBuilder().setPng(com.google.protobuf.ByteString.copyFrom(img.toPng()))
                .setWidth(img.width()).setHeight(img.height()).build();
    }

    /**
     * A PNG (or any ImageIO format) read and resampled to {@code size} pixels square if it has another size.
     *
     * @throws FieldException naming {@code field} when the bytes are not a readable image
     */
    public static RgbImage readImage(String field, Image image, int size) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(image.getPng().toByteArray()));
        } catch (IOException e) {
            throw new FieldException(field + ".png", "is not a readable image: " + e.getMessage());
        }
        if (img == null) {
            throw new FieldException(field + ".png", "is not a readable image (" + image.getPng().size()
                    + " bytes)");
        }
        return RgbImage.from(resize(img, size));
    }

    /** Bilinear resampling to {@code size} pixels square; the image itself when it already is. */
    public static BufferedImage resize(BufferedImage img, int size) {
        if (img.getWidth() == size && img.getHeight() == size) {
            return img;
        }
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        rgb.getGraphics().drawImage(img, 0, 0, null);
        var scale = java.awt.geom.AffineTransform.getScaleInstance((double) size / img.getWidth(),
                (double) size / img.getHeight());
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        return new AffineTransformOp(scale, AffineTransformOp.TYPE_BILINEAR).filter(rgb, out);
    }
}
