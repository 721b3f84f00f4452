package dalle.core.train;

import java.util.SplittableRandom;

/**
 * Every random draw of a training run is a function of (seed, step): the generator of update
 * {@code step} is made fresh from those two numbers, so a resumed run draws exactly what the
 * uninterrupted run drew, with no generator state to save.
 */
public final class Seeds {

    /** Stream of the per-update generator (Gumbel noise, BPE dropout). */
    static final int STEP_STREAM = 1;
    /** Stream of the per-epoch shuffles of a code cache. */
    static final int SHUFFLE_STREAM = 2;

    private Seeds() {}

    /** The generator of update {@code step} (0-based) of a run seeded with {@code seed}. */
    public static SplittableRandom forStep(long seed, long step) {
        return new SplittableRandom(mix(seed, step, STEP_STREAM));
    }

    /** A well-mixed 64-bit seed from (seed, index, stream): SplitMix64's finaliser over a combination. */
    public static long mix(long seed, long index, int stream) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z ^= (stream + 1L) * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
