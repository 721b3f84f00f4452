package dalle.training.cluster.comm;

import java.util.SplittableRandom;

/** Straightforward references for the collectives, and the seeded inputs the tests share. */
final class RingReference {

    private RingReference() {}

    /** Rank r's input: n floats in (−1, 1) of varied magnitude, from seed·1000 + r. */
    static float[] input(long seed, int rank, int n) {
        SplittableRandom rng = new SplittableRandom(seed * 1000 + rank);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * Math.pow(10, rng.nextInt(-3, 4)));
        }
        return x;
    }

    /** The sum in ring order: element of chunk c is ((x[c+1] + x[c+2]) + …) + x[c], ranks mod w. */
    static float[] ringSum(float[][] xs) {
        int w = xs.length;
        int n = xs[0].length;
        float[] out = new float[n];
        for (int c = 0; c < w; c++) {
            int from = Chunks.start(n, w, c);
            for (int i = from; i < from + Chunks.size(n, w, c); i++) {
                float acc = xs[(c + 1) % w][i];
                for (int k = 2; k <= w; k++) {
                    acc = acc + xs[(c + k) % w][i];
                }
                out[i] = acc;
            }
        }
        return out;
    }

    /** The exact sum (in double), to check that the ring order is a sum at all. */
    static double[] exactSum(float[][] xs) {
        double[] out = new double[xs[0].length];
        for (float[] x : xs) {
            for (int i = 0; i < x.length; i++) {
                out[i] += x[i];
            }
        }
        return out;
    }
}
