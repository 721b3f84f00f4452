package dalle.core.sampling;

import java.util.Arrays;

/**
 * Samplers that compose (llama3.java style): {@link #ARGMAX} and {@link #CATEGORICAL} pick a
 * token; {@link #temperature}, {@link #topK} and {@link #topP} reshape the logits (on a copy) and
 * hand them to the next sampler. {@link #of(SamplingParams)} builds the chain
 * temperature → top-k → top-p → categorical.
 */
public final class Samplers {

    private Samplers() {}

    /** The most likely token (lowest id among ties); uses no randomness. */
    public static final Sampler ARGMAX = (logits, rng) -> {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    };

    /**
     * The cumulative sums of {@link #CATEGORICAL}, one array per thread and reused: a sampler draws a token per row
     * and image position, and a fresh array each time (256 KiB per token step at batch 64) kept the JVM touching
     * new heap pages, which cost more on this machine than the arithmetic they held.
     */
    private static final ThreadLocal<double[]> CUMULATIVE = ThreadLocal.withInitial(() -> new double[0]);

    /** A draw from softmax(logits) with one {@code rng.nextDouble()}; −∞ logits are never drawn. */
    public static final Sampler CATEGORICAL = (logits, rng) -> {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            throw new IllegalArgumentException("no token has a finite logit (max " + max + ")");
        }
        double[] cumulative = CUMULATIVE.get();
        if (cumulative.length < logits.length) {
            cumulative = new double[logits.length];
            CUMULATIVE.set(cumulative);
        }
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            sum += Math.exp((double) logits[i] - max);
            cumulative[i] = sum;
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < logits.length; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        for (int i = logits.length - 1; ; i--) { // u rounded up to sum: the last token with mass
            if (logits[i] != Float.NEGATIVE_INFINITY) {
                return i;
            }
        }
    };

    /** Divides the logits by {@code temperature} (> 0) before {@code next}. */
    public static Sampler temperature(float temperature, Sampler next) {
        if (!(temperature > 0) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature + " must be finite and > 0 (use ARGMAX for 0)");
        }
        return (logits, rng) -> {
            float[] scaled = new float[logits.length];
            for (int i = 0; i < logits.length; i++) {
                scaled[i] = logits[i] / temperature;
            }
            return next.sample(scaled, rng);
        };
    }

    /** Keeps the {@code k} (> 0) highest logits (lower id first among ties), −∞ for the rest, before {@code next}. */
    public static Sampler topK(int k, Sampler next) {
        if (k <= 0) {
            throw new IllegalArgumentException("topK " + k + " must be > 0");
        }
        return (logits, rng) -> {
            if (k >= logits.length) {
                return next.sample(logits, rng);
            }
            int[] order = descending(logits);
            float[] kept = new float[logits.length];
            Arrays.fill(kept, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < k; r++) {
                kept[order[r]] = logits[order[r]];
            }
            return next.sample(kept, rng);
        };
    }

    /**
     * Keeps the minimal nucleus: the fewest most likely tokens whose softmax probability sums to at
     * least {@code p} (in (0, 1]), −∞ for the rest, before {@code next}.
     */
    public static Sampler topP(float p, Sampler next) {
        if (!(p > 0 && p <= 1)) {
            throw new IllegalArgumentException("topP " + p + " must be in (0, 1]");
        }
        return (logits, rng) -> {
            int[] order = descending(logits);
            double max = logits[order[0]];
            double[] weights = new double[order.length];
            double sum = 0;
            for (int r = 0; r < order.length; r++) {
                weights[r] = Math.exp(logits[order[r]] - max);
                sum += weights[r];
            }
            float[] kept = new float[logits.length];
            Arrays.fill(kept, Float.NEGATIVE_INFINITY);
            double mass = 0;
            for (int r = 0; r < order.length && mass < p; r++) {
                kept[order[r]] = logits[order[r]];
                mass += weights[r] / sum;
            }
            return next.sample(kept, rng);
        };
    }

    /** The sampler for {@code params}: ARGMAX at temperature 0, else temperature → top-k → top-p → categorical. */
    public static Sampler of(SamplingParams params) {
        if (params.temperature() == 0f) {
            return ARGMAX;
        }
        Sampler s = CATEGORICAL;
        if (params.topP() < 1f) {
            s = topP(params.topP(), s);
        }
        if (params.topK() > 0) {
            s = topK(params.topK(), s);
        }
        if (params.temperature() != 1f) {
            s = temperature(params.temperature(), s);
        }
        return s;
    }

    /** Token ids by logit, highest first, lower id first among equal logits. */
    static int[] descending(float[] logits) {
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // orders like the float as a signed int
            keys[i] = ((long) ~ascending << 32) | i;             // descending logit, then ascending id
        }
        Arrays.sort(keys);
        int[] order = new int[logits.length];
        for (int r = 0; r < order.length; r++) {
            order[r] = (int) keys[r];
        }
        return order;
    }
}
