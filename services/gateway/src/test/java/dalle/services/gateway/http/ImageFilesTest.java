package dalle.services.gateway.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.stage.StageException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The store behind image URLs: expiry, the byte bound (oldest dropped first), unguessable ids. */
class ImageFilesTest {

    /** A clock the test moves. */
    private static final class Now extends Clock {
        Instant t = Instant.parse("2026-12-03T21:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return t;
        }
    }

    @Test
    void anImageIsServedUntilItsExpiryThenGone() {
        Now now = new Now();
        ImageFiles files = new ImageFiles(Duration.ofMinutes(60), 1000, now);
        String id = files.put(List.of(new byte[] {1, 2, 3})).get(0);
        assertArrayEquals(new byte[] {1, 2, 3}, files.get(id).orElseThrow().png());
        assertEquals(now.t.plus(Duration.ofMinutes(60)), files.get(id).orElseThrow().expiresAt());
        now.t = now.t.plus(Duration.ofMinutes(59));
        assertTrue(files.get(id).isPresent());
        now.t = now.t.plus(Duration.ofMinutes(1));
        assertTrue(files.get(id).isEmpty(), "expired at exactly its ttl");
        assertEquals(0, files.bytes(), "expired images free their bytes");
    }

    @Test
    void pastTheByteBoundTheOldestGoFirstAndOneResponseKeepsAllItsImages() {
        ImageFiles files = new ImageFiles(Duration.ofHours(1), 100, new Now());
        List<String> first = files.put(List.of(new byte[40], new byte[40]));
        List<String> second = files.put(List.of(new byte[30]));
        assertTrue(files.get(first.get(0)).isEmpty(), "the oldest image made room");
        assertTrue(files.get(first.get(1)).isPresent());
        assertTrue(files.get(second.get(0)).isPresent());
        assertEquals(70, files.bytes());
        List<String> third = files.put(List.of(new byte[50], new byte[50]));
        assertEquals(100, files.bytes());
        assertTrue(files.get(third.get(0)).isPresent() && files.get(third.get(1)).isPresent());
        StageException tooBig = assertThrows(StageException.class, () -> files.put(List.of(new byte[60],
                new byte[41])));
        assertTrue(tooBig.getMessage().contains("dalle.gateway.image-store-bytes"), tooBig.getMessage());
        assertEquals(100, files.bytes(), "a refused response drops nothing");
    }

    @Test
    void idsAre256RandomBitsInBase64Url() {
        ImageFiles files = new ImageFiles(Duration.ofHours(1), 1 << 20, new Now());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = files.put(List.of(new byte[1])).get(0);
            assertTrue(id.matches("[A-Za-z0-9_-]{43}"), id);
            ids.add(id);
        }
        assertEquals(1000, ids.size());
    }
}
