package dalle.training.cluster.powersgd;

import dalle.core.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PowerSGD gradient compression with error feedback (Vogels et al. 2019), as the paper runs it
 * between machines (PAPER.md "Distributed optimisation"). For each compressed gradient, viewed as an
 * n×m matrix G with this worker's error buffer E (both fp32):
 * <pre>
 *   M  = G + E                       error feedback: what earlier updates failed to send
 *   P  = M · Q                       (n×r), Q (m×r) fixed random or warm-started
 *   P  = mean over workers of P      all-reduce #1 (with every uncompressed gradient in the same buffer)
 *   P̂  = orthonormalise(P + 1e-6·I)  Householder, fp32
 *   Q' = Mᵀ · P̂                      (m×r)
 *   Q' = mean over workers of Q'     all-reduce #2
 *   M̂  = P̂ · Q'ᵀ                     the decompressed mean gradient, identical on every worker
 *   E  = M − M̂                       what this update did not send, carried to the next
 * </pre>
 * The paper all-reduces sums and divides M̂ by the number of machines; all-reducing means is the
 * same (P̂ does not depend on P's scale). Uncompressed tensors are averaged exactly. Two all-reduces
 * per update in all, whatever the number of tensors.
 *
 * <p>An update whose averaged result is not finite (an overflow on any worker reaches every worker
 * through the mean) reports {@code finite = false}; the caller skips it, and the error buffers and
 * Q stay as they were so the bad step leaves no trace. With {@link PowerSgdConfig#exactSteps()} the
 * first exchanges are exact all-reduces of everything (PyTorch's warm-up), counted in the bytes.
 *
 * <p>One instance per worker; all workers must be built from the same config and tensor list.
 * Not thread-safe. Error buffers and Q are per-run state to keep in checkpoints ({@link #state()}).
 */
public final class PowerSgd implements GradientAveraging {

    private static final Logger LOG = LoggerFactory.getLogger(PowerSgd.class);

    private final PowerSgdConfig config;
    private final CompressionPlan plan;
    private final List<CompressionPlan.Entry> entries;
    private final float[][] errors;   // per tensor; null when uncompressed
    private final float[][] qs;       // per tensor (m×r); null when uncompressed
    private final int firstLength;
    private final int secondLength;
    private final float[][] work;     // per compressed tensor: M = G + E, reused every exchange
    private final float[] first;      // [P of every compressed tensor | every uncompressed gradient]
    private final float[] second;     // [Q' of every compressed tensor]
    private final ExactAveraging exact = new ExactAveraging();
    private long exchanges;
    private long sentBytes;
    private long denseBytes;

    public PowerSgd(PowerSgdConfig config, List<TensorSpec> tensors) {
        this.config = config;
        this.plan = new CompressionPlan(config, tensors);
        this.entries = plan.entries();
        this.errors = new float[entries.size()][];
        this.qs = new float[entries.size()][];
        int firstCount = 0;
        int secondCount = 0;
        for (int t = 0; t < entries.size(); t++) {
            CompressionPlan.Entry e = entries.get(t);
            TensorSpec s = e.spec();
            if (e.compressed()) {
                errors[t] = new float[s.size()];
                qs[t] = randomQ(config.seed(), s.name(), s.columns(), e.rank());
                firstCount = Math.addExact(firstCount, s.rows() * e.rank());
                secondCount = Math.addExact(secondCount, s.columns() * e.rank());
            } else {
                firstCount = Math.addExact(firstCount, s.size());
            }
        }
        this.firstLength = firstCount;
        this.secondLength = secondCount;
        this.first = new float[firstCount];
        this.second = new float[secondCount];
        this.work = new float[entries.size()][];
        for (int t = 0; t < entries.size(); t++) {
            work[t] = entries.get(t).compressed() ? new float[entries.get(t).spec().size()] : null;
        }
        LOG.info("PowerSGD rank {} ({}): {}", config.rank(), config.q(), plan.summary());
    }

    /** Standard normal Q (m×r), a function of (seed, tensor name) only, so every worker draws the same. */
    private static float[] randomQ(long seed, String name, int m, int r) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
        float[] q = new float[m * r];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) Module.gaussian(rng);
        }
        return q;
    }

    public PowerSgdConfig config() {
        return config;
    }

    public CompressionPlan plan() {
        return plan;
    }

    /** Exchanges done so far, exact ones included. */
    public long exchanges() {
        return exchanges;
    }

    /** Bytes this worker has all-reduced so far. */
    public long totalSentBytes() {
        return sentBytes;
    }

    /** Bytes an uncompressed exchange would have all-reduced so far. */
    public long totalDenseBytes() {
        return denseBytes;
    }

    @Override
    public ExchangeStats exchange(List<float[]> gradients, MeanReducer reducer) {
        if (gradients.size() != entries.size()) {
            throw new IllegalArgumentException(gradients.size() + " gradients for " + entries.size() + " tensors");
        }
        if (exchanges++ < config.exactSteps()) {
            ExchangeStats stats = exact.exchange(gradients, reducer);
            sentBytes += stats.sentBytes();
            denseBytes += stats.denseBytes();
            return stats;
        }
        float[][] ms = work;
        int off = 0;
        for (int t = 0; t < entries.size(); t++) {
            CompressionPlan.Entry e = entries.get(t);
            TensorSpec s = e.spec();
            float[] g = gradients.get(t);
            if (g.length != s.size()) {
                throw new IllegalArgumentException("gradient of " + s.name() + " has " + g.length
                        + " values, its shape " + s.shape() + " needs " + s.size());
            }
            if (!e.compressed()) {
                System.arraycopy(g, 0, first, off, g.length);
                off += g.length;
                continue;
            }
            float[] m = ms[t];
            float[] err = errors[t];
            for (int i = 0; i < m.length; i++) {
                m[i] = g[i] + err[i];                                    // M = G + E
            }
            LowRank.project(m, s.rows(), s.columns(), qs[t], e.rank(), first, off);  // P = M Q
            off += s.rows() * e.rank();
        }
        reducer.allReduceMean(first);

        int[] pOffsets = new int[entries.size()];
        off = 0;
        int off2 = 0;
        for (int t = 0; t < entries.size(); t++) {
            CompressionPlan.Entry e = entries.get(t);
            TensorSpec s = e.spec();
            if (!e.compressed()) {
                off += s.size();
                continue;
            }
            pOffsets[t] = off;
            LowRank.orthogonalize(first, off, s.rows(), e.rank());                   // P̂
            LowRank.projectBack(ms[t], s.rows(), s.columns(), first, off, e.rank(), second, off2); // Q' = Mᵀ P̂
            off += s.rows() * e.rank();
            off2 += s.columns() * e.rank();
        }
        reducer.allReduceMean(second);

        boolean finite = LowRank.allFinite(first) && LowRank.allFinite(second);
        off = 0;
        off2 = 0;
        for (int t = 0; t < entries.size(); t++) {
            CompressionPlan.Entry e = entries.get(t);
            TensorSpec s = e.spec();
            float[] g = gradients.get(t);
            if (!e.compressed()) {
                System.arraycopy(first, off, g, 0, g.length);
                off += g.length;
                continue;
            }
            LowRank.reconstruct(first, pOffsets[t], second, off2, s.rows(), s.columns(), e.rank(), g); // M̂ = P̂ Q'ᵀ
            if (finite) {
                float[] m = ms[t];
                float[] err = errors[t];
                for (int i = 0; i < g.length; i++) {
                    err[i] = m[i] - g[i];                                // E = M − M̂
                }
                if (config.q() == PowerSgdConfig.QStart.WARM_START) {
                    System.arraycopy(second, off2, qs[t], 0, qs[t].length);
                }
            }
            off += s.rows() * e.rank();
            off2 += s.columns() * e.rank();
        }
        long sent = 4L * (firstLength + (long) secondLength);
        long dense = plan.denseBytes();
        sentBytes += sent;
        denseBytes += dense;
        LOG.debug("PowerSGD exchange: {} of {} bytes sent, finite {}", sent, dense, finite);
        return new ExchangeStats(sent, dense, finite);
    }

    /** A copy of the error buffer of compressed tensor {@code name} (row-major n×m). */
    public float[] errorBuffer(String name) {
        return errors[compressedIndex(name)].clone();
    }

    /** A copy of the current Q (row-major m×r) of compressed tensor {@code name}. */
    public float[] q(String name) {
        return qs[compressedIndex(name)].clone();
    }

    /** Per-run state for checkpoints: {@code <name>.error} and {@code <name>.q} of every compressed tensor, copies. */
    public Map<String, float[]> state() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int t = 0; t < entries.size(); t++) {
            if (entries.get(t).compressed()) {
                String n = entries.get(t).spec().name();
                out.put(n + ".error", errors[t].clone());
                out.put(n + ".q", qs[t].clone());
            }
        }
        return out;
    }

    /**
     * Restores what {@link #state()} returned (same config and tensors) and the number of exchanges
     * done before it was taken (which decides whether the exact warm-up is over).
     */
    public void restore(Map<String, float[]> state, long exchangesDone) {
        this.exchanges = exchangesDone;
        for (int t = 0; t < entries.size(); t++) {
            if (entries.get(t).compressed()) {
                String n = entries.get(t).spec().name();
                copyInto(state, n + ".error", errors[t]);
                copyInto(state, n + ".q", qs[t]);
            }
        }
    }

    private static void copyInto(Map<String, float[]> state, String key, float[] target) {
        float[] v = state.get(key);
        if (v == null || v.length != target.length) {
            throw new IllegalArgumentException("PowerSGD state " + key + (v == null ? " is missing"
                    : " has " + v.length + " values, expected " + target.length));
        }
        System.arraycopy(v, 0, target, 0, v.length);
    }

    private int compressedIndex(String name) {
        List<String> compressed = new ArrayList<>();
        for (int t = 0; t < entries.size(); t++) {
            String n = entries.get(t).spec().name();
            if (n.equals(name) && entries.get(t).compressed()) {
                return t;
            }
            if (entries.get(t).compressed()) {
                compressed.add(n);
            }
        }
        throw new IllegalArgumentException("tensor " + name + " is not compressed (compressed: " + compressed + ")");
    }
}
