package dalle.training.cluster.precision;

import java.util.Arrays;

/**
 * The rules of the paper's per-resblock gradient scaling (PAPER.md "Mixed precision"), apart from
 * any model: one scale per resblock, fed with each update's finiteness flags.
 * <ul>
 *   <li>every scale starts at {@code M·2^13}, M the number of data-parallel replicas;</li>
 *   <li>after a clean update (every gradient finite) every scale grows by {@code 2^(1/1000)};</li>
 *   <li>when a resblock's gradients are not finite, the update is skipped and that resblock's scale
 *       (only that one) shrinks by {@code √2}, at most once per 125 updates for that resblock;</li>
 *   <li>a skipped update grows no scale;</li>
 *   <li>scales stay in {@code [M·2^7, M·2^24]}.</li>
 * </ul>
 * Gradients outside the resblocks (embeddings, the fp32 head) have no scale of their own; when they
 * are not finite the update is skipped and no scale changes. "Updates" count every call of
 * {@link #update}, skipped ones included. Not thread-safe; one per training process.
 */
public final class ResblockGradScaler {

    /** Growth per clean update, 2^(1/1000). */
    public static final double GROWTH = Math.pow(2, 1.0 / 1000);
    /** Shrink divisor on overflow, √2. */
    public static final double SHRINK = Math.sqrt(2);
    /** Minimum number of updates between two shrinks of one resblock's scale. */
    public static final int SHRINK_COOLDOWN = 125;

    private final double[] scales;
    private final long[] lastShrink;
    private final double min;
    private final double max;
    private long updates;
    private long skipped;

    /**
     * @param resblocks number of resblocks (scales), ≥ 1
     * @param replicas  data-parallel replicas M, ≥ 1
     */
    public ResblockGradScaler(int resblocks, int replicas) {
        if (resblocks < 1) {
            throw new IllegalArgumentException("resblocks " + resblocks + " must be at least 1");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas " + replicas + " must be at least 1");
        }
        scales = new double[resblocks];
        Arrays.fill(scales, replicas * Math.pow(2, 13));
        lastShrink = new long[resblocks];
        Arrays.fill(lastShrink, Long.MIN_VALUE);
        min = replicas * Math.pow(2, 7);
        max = replicas * Math.pow(2, 24);
    }

    /** Number of resblocks. */
    public int resblocks() {
        return scales.length;
    }

    /** The current scale of resblock {@code block} (0-based). */
    public float scale(int block) {
        return (float) scales[block];
    }

    /** All current scales, a copy. */
    public float[] scales() {
        float[] out = new float[scales.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) scales[i];
        }
        return out;
    }

    /** Updates seen so far, skipped ones included. */
    public long updates() {
        return updates;
    }

    /** Updates skipped so far. */
    public long skipped() {
        return skipped;
    }

    /**
     * Applies the rules to one update's flags.
     *
     * @param resblockFinite per resblock: were all of its parameter gradients finite
     * @param restFinite     were the gradients outside the resblocks finite
     * @return whether to apply the update, and which scales shrank
     */
    public Decision update(boolean[] resblockFinite, boolean restFinite) {
        if (resblockFinite.length != scales.length) {
            throw new IllegalArgumentException(resblockFinite.length + " finiteness flags for " + scales.length
                    + " resblocks");
        }
        long u = updates++;
        boolean clean = restFinite;
        for (boolean f : resblockFinite) {
            clean &= f;
        }
        if (clean) {
            for (int i = 0; i < scales.length; i++) {
                scales[i] = Math.min(scales[i] * GROWTH, max);
            }
            return new Decision(true, new int[0]);
        }
        skipped++;
        int[] shrunk = new int[scales.length];
        int count = 0;
        for (int i = 0; i < scales.length; i++) {
            if (!resblockFinite[i] && (lastShrink[i] == Long.MIN_VALUE || u - lastShrink[i] >= SHRINK_COOLDOWN)) {
                scales[i] = Math.max(scales[i] / SHRINK, min);
                lastShrink[i] = u;
                shrunk[count++] = i;
            }
        }
        return new Decision(false, Arrays.copyOf(shrunk, count));
    }

    /**
     * Everything the rules depend on, for checkpoints: {@code 2R + 2} longs for R resblocks — the R
     * scales as IEEE-754 double bits, the R updates at which each scale last shrank
     * ({@link Long#MIN_VALUE}: never), then the update and skip counts. {@link #restore} puts it back
     * exactly.
     */
    public long[] snapshot() {
        int r = scales.length;
        long[] out = new long[2 * r + 2];
        for (int i = 0; i < r; i++) {
            out[i] = Double.doubleToRawLongBits(scales[i]);
            out[r + i] = lastShrink[i];
        }
        out[2 * r] = updates;
        out[2 * r + 1] = skipped;
        return out;
    }

    /**
     * Restores a {@link #snapshot()} of a scaler with as many resblocks.
     *
     * @throws IllegalArgumentException when the snapshot's length does not fit, or a scale is not a finite positive number
     */
    public void restore(long[] snapshot) {
        int r = scales.length;
        if (snapshot.length != 2 * r + 2) {
            throw new IllegalArgumentException("a scaler snapshot of " + snapshot.length + " values does not fit "
                    + r + " resblocks (expected " + (2 * r + 2) + ")");
        }
        for (int i = 0; i < r; i++) {
            double scale = Double.longBitsToDouble(snapshot[i]);
            if (!(scale > 0 && Double.isFinite(scale))) {
                throw new IllegalArgumentException("resblock " + i + " has scale " + scale + " in the snapshot");
            }
        }
        for (int i = 0; i < r; i++) {
            scales[i] = Double.longBitsToDouble(snapshot[i]);
            lastShrink[i] = snapshot[r + i];
        }
        updates = snapshot[2 * r];
        skipped = snapshot[2 * r + 1];
    }

    /**
     * The outcome of one update.
     *
     * @param apply  true to apply the update, false to skip it
     * @param shrunk the resblocks whose scale shrank, ascending
     */
    public record Decision(boolean apply, int[] shrunk) {
    }
}
