package dalle.training.cluster.shard;

import dalle.core.transformer.PriorConfig;
import java.util.List;

/**
 * Memory and communication of training the prior on {@code machines × gpusPerMachine} GPUs
 * (PAPER.md, "Mixed precision" and "Distributed optimisation"), computed from the config alone.
 *
 * <p><b>Precision assumptions</b> (bytes per element):
 * <ul>
 *   <li>resblock matrices (attention qkv/proj, MLP fc/proj): fp16 weights, fp16 gradients and, as
 *       the paper stored most Adam moments in 16 bit, fp16 moments; plus an fp32 master copy
 *       (DESIGN.md §5) and an fp32 PowerSGD error buffer;</li>
 *   <li>gains, biases, embeddings, unembedding: fp32 weights, gradients and moments, never compressed.</li>
 * </ul>
 * <p><b>Sharding</b> (ZeRO-3 inside a machine): every array is split into {@code gpusPerMachine}
 * shards of ⌈n/G⌉ elements (the last one padded), and each GPU keeps one shard of every array and
 * of its optimizer state. Transient all-gathered blocks and activations are not counted.
 *
 * <p><b>PowerSGD</b> between machines: each GPU compresses its shard of each resblock matrix at
 * rank r/G (the paper: 896 = 8 × 112), the shard being the matrix cut along its longer side, so a
 * shard of n×m (n ≥ m) is ⌈n/G⌉×m and sends P (⌈n/G⌉×r/G) and Q (m×r/G). Rates are 1 − sent/uncompressed.
 */
public record TrainingPlan(PriorConfig config, int machines, int gpusPerMachine, int powerSgdRank) {

    public TrainingPlan {
        if (machines < 1 || gpusPerMachine < 1 || powerSgdRank < 1) {
            throw new IllegalArgumentException("machines " + machines + ", gpus per machine " + gpusPerMachine
                    + " and PowerSGD rank " + powerSgdRank + " must be positive");
        }
        if (powerSgdRank % gpusPerMachine != 0) {
            throw new IllegalArgumentException("PowerSGD rank " + powerSgdRank + " is not divisible by "
                    + gpusPerMachine + " GPUs per machine (each GPU compresses its shard at rank r/G)");
        }
    }

    /** Bytes each GPU holds, by what they are. */
    public record Bytes(long parameters, long gradients, long adamMoments, long fp32Master, long errorBuffers) {
        public long total() {
            return parameters + gradients + adamMoments + fp32Master + errorBuffers;
        }
    }

    public List<PriorTensors.Tensor> tensors() {
        return PriorTensors.of(config);
    }

    public long parameterCount() {
        return tensors().stream().mapToLong(PriorTensors.Tensor::size).sum();
    }

    /** Per-GPU bytes under ZeRO-3 sharding within a machine, with the precisions above. */
    public Bytes perGpu() {
        long params = 0;
        long grads = 0;
        long adam = 0;
        long master = 0;
        long error = 0;
        for (PriorTensors.Tensor t : tensors()) {
            long shard = ceilDiv(t.size(), gpusPerMachine);
            if (t.resblockMatrix()) {
                params += 2 * shard;
                grads += 2 * shard;
                adam += 2 * 2 * shard;
                master += 4 * shard;
                error += 4 * shard;
            } else {
                params += 4 * shard;
                grads += 4 * shard;
                adam += 2 * 4 * shard;
            }
        }
        return new Bytes(params, grads, adam, master, error);
    }

    /** The paper's compression rate, 1 − 5r/(8d). */
    public double formulaRate() {
        return 1 - 5.0 * powerSgdRank / (8.0 * config.width());
    }

    /** Rate over the resblock matrices as this model builds them (fused qkv projection). */
    public double matrixRate() {
        double sent = 0;
        double whole = 0;
        for (PriorTensors.Tensor t : tensors()) {
            if (t.resblockMatrix()) {
                sent += sent(t.rows(), t.cols());
                whole += t.size();
            }
        }
        return 1 - sent / whole;
    }

    /**
     * Rate over the resblock matrices with q, k and v counted as three d×d matrices, the accounting
     * behind the paper's 1 − 5r/(8d) (per block: four d×d, one d×4d and one 4d×d).
     */
    public double paperAccountingRate() {
        long d = config.width();
        long h = (long) config.mlpRatio() * d;
        double sent = 4 * sent(d, d) + sent(h, d) + sent(d, h);
        double whole = 4.0 * d * d + 2.0 * h * d;
        return 1 - sent / whole;
    }

    /**
     * Rate over every gradient byte that crosses machines: compressed resblock matrices (fp16 P and Q)
     * plus the uncompressed fp32 gains, biases, embeddings and unembedding.
     */
    public double overallByteRate() {
        double sent = 0;
        double whole = 0;
        for (PriorTensors.Tensor t : tensors()) {
            if (t.resblockMatrix()) {
                sent += 2 * sent(t.rows(), t.cols());
                whole += 2.0 * t.size();
            } else {
                sent += 4.0 * t.size();
                whole += 4.0 * t.size();
            }
        }
        return 1 - sent / whole;
    }

    /** Elements all G GPUs of a machine send for one n×m matrix; never more than the matrix itself. */
    private double sent(long n, long m) {
        long g = gpusPerMachine;
        long perGpuRank = powerSgdRank / g;
        long longSide = Math.max(n, m);
        long shortSide = Math.min(n, m);
        long shardRows = ceilDiv(longSide, g);
        double lowRank = (double) g * perGpuRank * (shardRows + shortSide);
        return Math.min(lowRank, (double) g * shardRows * shortSide);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
