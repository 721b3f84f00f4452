package dalle.core.data.readers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReaderOptionsTest {

    @Test
    void defaultsAreTheDocumentedLimits() {
        ReaderOptions o = ReaderOptions.of(64);
        assertEquals(64, o.resolution());
        assertEquals(1000, o.maxCaptionChars());
        assertEquals(1L << 25, o.maxImagePixels());
        assertEquals(64L << 20, o.maxImageBytes());
    }

    @Test
    void badValuesAreRejectedWithMessagesNamingThem() {
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> ReaderOptions.of(0));
        assertTrue(r.getMessage().contains("resolution 0"), r.getMessage());
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                () -> ReaderOptions.of(8).withMaxCaptionChars(-3));
        assertTrue(c.getMessage().contains("maxCaptionChars -3"), c.getMessage());
    }

    @Test
    void captionLimitCountsCodePointsNotUtf16Units() throws BadRecord {
        RecordDecoder decoder = new RecordDecoder(ReaderOptions.of(8).withMaxCaptionChars(3));
        assertEquals("\uD83D\uDC31\uD83D\uDC31\uD83D\uDC31", decoder.caption("\uD83D\uDC31\uD83D\uDC31\uD83D\uDC31"));
        BadRecord e = assertThrows(BadRecord.class, () -> decoder.caption("abcd"));
        assertEquals(BadRecord.Reason.OVERSIZED_CAPTION, e.reason());
    }
}
