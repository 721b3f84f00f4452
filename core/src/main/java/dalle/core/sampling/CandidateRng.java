package dalle.core.sampling;

import java.util.SplittableRandom;

/**
 * Every candidate's own random stream, derived from (request seed, candidate index) alone, so that
 * a candidate's tokens do not depend on batch size or on which other requests shared the batch.
 */
public final class CandidateRng {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private CandidateRng() {}

    /** A generator for candidate {@code candidateIndex} (>= 0) of a request seeded with {@code seed}. */
    public static SplittableRandom of(long seed, int candidateIndex) {
        if (candidateIndex < 0) {
            throw new IllegalArgumentException("candidateIndex " + candidateIndex + " must be >= 0");
        }
        return new SplittableRandom(mix64(mix64(seed) + GOLDEN_GAMMA * (candidateIndex + 1L)));
    }

    /** SplitMix64's finaliser (Stafford's variant 13): a bijection that scatters nearby inputs. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
