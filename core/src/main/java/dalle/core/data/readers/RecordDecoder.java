package dalle.core.data.readers;

import dalle.core.data.readers.BadRecord.Reason;
import dalle.core.image.RgbImage;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns raw caption text and image bytes into checked values, throwing {@link BadRecord} with the counter to
 * charge. Shared by every reader so that the same bytes are judged the same way whatever the container.
 */
final class RecordDecoder {

    /** Caption files (and WebDataset .txt/.json members) above this size are treated as oversized captions. */
    static final int MAX_CAPTION_FILE_BYTES = 1 << 20;

    private final ReaderOptions options;

    RecordDecoder(ReaderOptions options) {
        this.options = options;
    }

    ReaderOptions options() {
        return options;
    }

    /**
     * The caption in {@code raw}: the first line that is not blank, with surrounding whitespace removed (a UTF-8
     * byte-order mark is dropped). Files with one caption per line thus yield their first caption.
     */
    static String clean(String raw) {
        String text = raw.startsWith("\uFEFF") ? raw.substring(1) : raw;
        for (String line : (Iterable<String>) text.lines()::iterator) {
            String stripped = line.strip();
            if (!stripped.isEmpty()) {
                return stripped;
            }
        }
        return "";
    }

    /** {@link #clean cleans} {@code raw} and checks it is present and within the caption limit. */
    String caption(String raw) throws BadRecord {
        String caption = clean(raw);
        if (caption.isEmpty()) {
            throw new BadRecord(Reason.MISSING_CAPTION, "caption is blank");
        }
        int chars = caption.codePointCount(0, caption.length());
        if (chars > options.maxCaptionChars()) {
            throw new BadRecord(Reason.OVERSIZED_CAPTION,
                    "caption has " + chars + " characters, over the limit of " + options.maxCaptionChars());
        }
        return caption;
    }

    /** Decodes UTF-8 caption bytes (malformed sequences become U+FFFD) and checks them like {@link #caption}. */
    String caption(byte[] utf8) throws BadRecord {
        if (utf8.length > MAX_CAPTION_FILE_BYTES) {
            throw oversizedCaptionFile(utf8.length);
        }
        return caption(new String(utf8, StandardCharsets.UTF_8));
    }

    static BadRecord oversizedCaptionFile(long bytes) {
        return new BadRecord(Reason.OVERSIZED_CAPTION,
                "caption file has " + bytes + " bytes, over the " + MAX_CAPTION_FILE_BYTES + "-byte limit");
    }

    /** Reads a caption file; a missing file is a missing caption. */
    String captionFile(Path file) throws BadRecord {
        return caption(readFile(file, MAX_CAPTION_FILE_BYTES, Reason.MISSING_CAPTION, true));
    }

    /** Reads and decodes an image file; a missing file is a missing image. */
    RgbImage imageFile(Path file) throws BadRecord {
        return image(readFile(file, options.maxImageBytes(), Reason.MISSING_IMAGE, false));
    }

    private static byte[] readFile(Path file, long maxBytes, Reason ifMissing, boolean caption) throws BadRecord {
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw caption ? oversizedCaptionFile(size) : tooLarge(size, maxBytes);
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadRecord(ifMissing, "file " + file + " does not exist");
        } catch (IOException e) {
            throw new BadRecord(Reason.OTHER, "cannot read " + file + ": " + e);
        }
    }

    static BadRecord tooLarge(long size, long maxBytes) {
        return new BadRecord(Reason.OTHER, "image has " + size + " bytes, over the " + maxBytes + "-byte limit");
    }

    /**
     * Decodes PNG or JPEG bytes (recognised by content, not by name) and shapes them with
     * {@link SquareImages}. Only the centre square is decoded. Anything the decoder rejects or warns about (a
     * truncated JPEG decodes with a warning) is a corrupt image; an image over the pixel limit is skipped as
     * "other" before decoding.
     */
    RgbImage image(byte[] bytes) throws BadRecord {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader = pngOrJpegReader(in, bytes.length);
            try {
                reader.setInput(in, true, true);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((r, warning) -> warnings.add(warning));
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if ((long) w * h > options.maxImagePixels()) {
                    throw new BadRecord(Reason.OTHER, "image is " + w + "x" + h + ", over the "
                            + options.maxImagePixels() + "-pixel limit");
                }
                int s = Math.min(w, h);
                ImageReadParam param = reader.getDefaultReadParam();
                param.setSourceRegion(new Rectangle((w - s) / 2, (h - s) / 2, s, s));
                BufferedImage square = reader.read(0, param);
                if (!warnings.isEmpty()) {
                    // A cut-off JPEG decodes with grey where the data ran out, and only a warning says so.
                    throw new BadRecord(Reason.CORRUPT_IMAGE, "image decoder warned: " + warnings.get(0));
                }
                return SquareImages.centreCropResize(square, options.resolution());
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new BadRecord(Reason.CORRUPT_IMAGE, "image does not decode: " + e);
        }
    }

    private static ImageReader pngOrJpegReader(ImageInputStream in, int length) throws BadRecord {
        // ImageIO also sniffs WBMP, whose header check accepts much random data: only PNG and JPEG are wanted.
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader reader = readers.next();
            String format = reader.getOriginatingProvider() == null
                    ? "" : reader.getOriginatingProvider().getFormatNames()[0].toLowerCase(Locale.ROOT);
            if (format.equals("png") || format.equals("jpeg") || format.equals("jpg")) {
                return reader;
            }
            reader.dispose();
        }
        throw new BadRecord(Reason.CORRUPT_IMAGE, "these " + length + " bytes are neither PNG nor JPEG");
    }
}
