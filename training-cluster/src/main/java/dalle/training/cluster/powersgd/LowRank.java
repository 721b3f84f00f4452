package dalle.training.cluster.powersgd;

/**
 * The dense fp32 linear algebra of PowerSGD on flat row-major float[] matrices: the two
 * projections, the reconstruction and the Householder orthogonalisation.
 *
 * <p>Why float[] and not DJL NDArrays: the matrices are small (n×r with r ≤ a few), the all-reduce
 * ships float[] anyway, and here every worker computes bit-identical results with a fixed
 * summation order on any machine, which keeps replicas in lock step without broadcasting P. A
 * libtorch call per small op would cost more in dispatch than the arithmetic (TOOLCHAIN.md: ~13 µs
 * per tiny op), and the orthogonalisation has no fused DJL operator. Everything is fp32, as the
 * paper does it (PAPER.md "Distributed optimisation").
 */
final class LowRank {

    /** Added to P's diagonal before orthogonalising (PAPER.md: "with 1e-6·I added for stability"). */
    static final float STABILISER = 1e-6f;

    private LowRank() {}

    /** P (n×r) = M (n×m) · Q (m×r), written into {@code p} from {@code offset}. */
    static void project(float[] mat, int n, int m, float[] q, int r, float[] p, int offset) {
        for (int i = 0; i < n; i++) {
            int row = i * m;
            int out = offset + i * r;
            for (int j = 0; j < r; j++) {
                p[out + j] = 0f;
            }
            for (int k = 0; k < m; k++) {
                float v = mat[row + k];
                int qk = k * r;
                for (int j = 0; j < r; j++) {
                    p[out + j] += v * q[qk + j];
                }
            }
        }
    }

    /** Q' (m×r) = Mᵀ (m×n) · P (n×r), P read from {@code pOffset}, written into {@code q} from {@code qOffset}. */
    static void projectBack(float[] mat, int n, int m, float[] p, int pOffset, int r, float[] q, int qOffset) {
        java.util.Arrays.fill(q, qOffset, qOffset + m * r, 0f);
        for (int i = 0; i < n; i++) {
            int row = i * m;
            int pi = pOffset + i * r;
            for (int k = 0; k < m; k++) {
                float v = mat[row + k];
                int out = qOffset + k * r;
                for (int j = 0; j < r; j++) {
                    q[out + j] += v * p[pi + j];
                }
            }
        }
    }

    /** M̂ (n×m) = P (n×r) · Q'ᵀ (r×m), both read from offsets, into {@code out}. */
    static void reconstruct(float[] p, int pOffset, float[] q, int qOffset, int n, int m, int r, float[] out) {
        for (int i = 0; i < n; i++) {
            int pi = pOffset + i * r;
            for (int k = 0; k < m; k++) {
                int qk = qOffset + k * r;
                float s = 0f;
                for (int j = 0; j < r; j++) {
                    s += p[pi + j] * q[qk + j];
                }
                out[i * m + k] = s;
            }
        }
    }

    /**
     * Replaces the r columns of P (n×r, n ≥ r, row-major, from {@code offset}) by an orthonormal basis
     * of P + 1e-6·I: the Q factor of a Householder QR, in fp32. A column that is zero after the
     * earlier reflections gets a unit vector orthogonal to the others, so the result is always
     * orthonormal.
     */
    static void orthogonalize(float[] p, int offset, int n, int r) {
        if (r > n) {
            throw new IllegalArgumentException("cannot orthogonalise " + r + " columns of length " + n);
        }
        for (int j = 0; j < r; j++) {
            p[offset + j * r + j] += STABILISER;
        }
        float[][] reflectors = new float[r][];
        for (int k = 0; k < r; k++) {
            float norm2 = 0f;
            for (int i = k; i < n; i++) {
                float a = p[offset + i * r + k];
                norm2 += a * a;
            }
            if (norm2 == 0f) {
                continue;                                       // nothing to reflect: H_k = I
            }
            float head = p[offset + k * r + k];
            float alpha = head >= 0 ? (float) -Math.sqrt(norm2) : (float) Math.sqrt(norm2);
            float[] v = new float[n - k];
            for (int i = k; i < n; i++) {
                v[i - k] = p[offset + i * r + k];
            }
            v[0] -= alpha;
            float vNorm2 = 0f;
            for (float x : v) {
                vNorm2 += x * x;
            }
            if (vNorm2 == 0f || !Float.isFinite(vNorm2)) {
                continue;
            }
            float inv = (float) (1.0 / Math.sqrt(vNorm2));
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
            reflect(p, offset, n, r, k, k, v);                  // R ← H_k R on columns k..r−1
            reflectors[k] = v;
        }
        // Q = H_0 · H_1 ··· H_{r−1} · I_{n×r}, applied right to left
        java.util.Arrays.fill(p, offset, offset + n * r, 0f);
        for (int j = 0; j < r; j++) {
            p[offset + j * r + j] = 1f;
        }
        for (int k = r - 1; k >= 0; k--) {
            if (reflectors[k] != null) {
                reflect(p, offset, n, r, k, 0, reflectors[k]);
            }
        }
    }

    /** A ← (I − 2vvᵀ) A on rows k..n−1 and columns c0..r−1 of the n×r matrix at {@code offset}. */
    private static void reflect(float[] a, int offset, int n, int r, int k, int c0, float[] v) {
        for (int c = c0; c < r; c++) {
            float dot = 0f;
            for (int i = k; i < n; i++) {
                dot += v[i - k] * a[offset + i * r + c];
            }
            float twice = 2f * dot;
            for (int i = k; i < n; i++) {
                a[offset + i * r + c] -= twice * v[i - k];
            }
        }
    }

    /** Whether every value is finite. */
    static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
