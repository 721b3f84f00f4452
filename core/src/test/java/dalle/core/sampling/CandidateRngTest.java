package dalle.core.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CandidateRngTest {

    @Test
    void streamsDifferAcrossCandidateIndicesAndSeeds() {
        Set<Long> firsts = new HashSet<>();
        for (long seed = 0; seed < 8; seed++) {
            for (int index = 0; index < 64; index++) {
                firsts.add(CandidateRng.of(seed, index).nextLong());
            }
        }
        assertEquals(8 * 64, firsts.size());
        assertNotEquals(CandidateRng.of(1, 0).nextLong(), CandidateRng.of(0, 1).nextLong());
    }

    @Test
    void streamsAreStableAcrossCallsAndBuilds() {
        long[] a = CandidateRng.of(42, 3).longs(5).toArray();
        long[] b = CandidateRng.of(42, 3).longs(5).toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
        // pinned: changing the derivation would silently change every seeded result users have seen
        assertEquals(GOLDEN_42_3, a[0]);
    }

    @Test
    void negativeCandidateIndexIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CandidateRng.of(1, -1));
    }

    private static final long GOLDEN_42_3 = -636512592851386625L;
}
