package dalle.core.data.readers;

import java.util.List;

/**
 * Counts of one pass over an {@link ExampleSource}: what was yielded and what was skipped, by reason. A record is
 * one candidate example (an image file, a COCO annotation or image, a WebDataset sample); each skipped record is
 * counted once, under the first check it fails, in this order: missing image, missing caption, oversized caption,
 * then the image bytes (over a limit, or corrupt). A record with both a bad caption and a bad image thus counts as a
 * caption problem, and its image is never decoded.
 *
 * @param read examples yielded
 * @param skippedCorruptImage records whose image bytes do not decode as PNG or JPEG (including truncated files and
 *     files the decoder warns about)
 * @param skippedMissingCaption records with no caption, or only blank text where the caption should be
 * @param skippedOversizedCaption records whose caption exceeds {@link ReaderOptions#maxCaptionChars()}
 * @param skippedMissingImage records with a caption but no image (caption file without image, COCO annotation whose
 *     image id or file is absent, WebDataset sample without a .jpg/.jpeg/.png member)
 * @param skippedOther records skipped for any other reason (image over the size or pixel limits, unreadable file,
 *     sample cut off by a truncated shard, malformed annotation entry)
 * @param sourceErrors whole files that ended early or could not be read (a truncated or corrupt tar shard, a missing
 *     shard, an annotations file that became unreadable, a directory that could not be listed): the rest of that
 *     file is lost, reading goes on with the next one
 * @param problems the first {@link #MAX_PROBLEMS} problems as {@code "where: why"}, for a person to read
 */
public record ReadStats(
        long read,
        long skippedCorruptImage,
        long skippedMissingCaption,
        long skippedOversizedCaption,
        long skippedMissingImage,
        long skippedOther,
        long sourceErrors,
        List<String> problems) {

    /** How many problem descriptions are kept; the counts are always complete. */
    public static final int MAX_PROBLEMS = 20;

    /** Nothing read yet. */
    public static final ReadStats EMPTY = new ReadStats(0, 0, 0, 0, 0, 0, 0, List.of());

    public ReadStats {
        problems = List.copyOf(problems);
    }

    /** All skipped records, whatever the reason (source errors are not records and are not included). */
    public long skipped() {
        return skippedCorruptImage + skippedMissingCaption + skippedOversizedCaption + skippedMissingImage
                + skippedOther;
    }

    @Override
    public String toString() {
        return "read " + read + ", skipped " + skipped() + " (corrupt image " + skippedCorruptImage
                + ", missing caption " + skippedMissingCaption + ", oversized caption " + skippedOversizedCaption
                + ", missing image " + skippedMissingImage + ", other " + skippedOther + "), source errors "
                + sourceErrors;
    }
}
