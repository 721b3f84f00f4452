package dalle.core.data.readers;

/**
 * What every reader is asked for and the limits past which a record counts as bad.
 *
 * @param resolution side of the square images yielded, in pixels (1 to 8192); each image is centre-cropped to a
 *     square and resized to this (see {@link SquareImages})
 * @param maxCaptionChars a caption longer than this many Unicode code points is skipped as oversized (not cut)
 * @param maxImagePixels an image whose header declares more pixels than this (width times height) is skipped
 *     before it is decoded, so that one huge or hostile file cannot exhaust memory
 * @param maxImageBytes an image file or tar member larger than this many bytes is skipped without being read
 */
public record ReaderOptions(int resolution, int maxCaptionChars, long maxImagePixels, long maxImageBytes) {

    /** Default caption limit: 1000 code points, well past any real caption and far past what models read. */
    public static final int DEFAULT_MAX_CAPTION_CHARS = 1000;
    /** Default pixel limit: 2^25 (about 33.5 megapixels, e.g. 8192x4096; ~100 MB once decoded). */
    public static final long DEFAULT_MAX_IMAGE_PIXELS = 1L << 25;
    /** Default file-size limit: 64 MiB. */
    public static final long DEFAULT_MAX_IMAGE_BYTES = 64L << 20;
    /** Largest resolution accepted; larger requests are almost certainly a mistake. */
    public static final int MAX_RESOLUTION = 8192;

    public ReaderOptions {
        if (resolution < 1 || resolution > MAX_RESOLUTION) {
            throw new IllegalArgumentException("resolution " + resolution + " is outside 1.." + MAX_RESOLUTION);
        }
        if (maxCaptionChars < 1) {
            throw new IllegalArgumentException("maxCaptionChars " + maxCaptionChars + " must be at least 1");
        }
        if (maxImagePixels < 1) {
            throw new IllegalArgumentException("maxImagePixels " + maxImagePixels + " must be at least 1");
        }
        if (maxImageBytes < 1 || maxImageBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "maxImageBytes " + maxImageBytes + " is outside 1.." + (Integer.MAX_VALUE - 8));
        }
    }

    /** The defaults at {@code resolution}. */
    public static ReaderOptions of(int resolution) {
        return new ReaderOptions(
                resolution, DEFAULT_MAX_CAPTION_CHARS, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_BYTES);
    }

    /** A copy with another caption limit (code points). */
    public ReaderOptions withMaxCaptionChars(int chars) {
        return new ReaderOptions(resolution, chars, maxImagePixels, maxImageBytes);
    }

    /** A copy with another pixel limit. */
    public ReaderOptions withMaxImagePixels(long pixels) {
        return new ReaderOptions(resolution, maxCaptionChars, pixels, maxImageBytes);
    }

    /** A copy with another file-size limit (bytes). */
    public ReaderOptions withMaxImageBytes(long bytes) {
        return new ReaderOptions(resolution, maxCaptionChars, maxImagePixels, bytes);
    }
}
