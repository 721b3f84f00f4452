package dalle.training.cluster.powersgd;

import dalle.core.nn.Parameter;
import java.util.EnumSet;
import java.util.Set;

/**
 * Settings of {@link PowerSgd}.
 *
 * @param rank            r, the number of columns of P and Q, ≥ 1 (a matrix smaller than r uses its
 *                        own smaller side)
 * @param q               where each update's Q comes from
 * @param seed            seeds the random Q of every matrix (with its name), identical on all workers
 * @param compressedKinds the parameter roles that may be compressed: WEIGHT and/or UNEMBEDDING.
 *                        Embeddings, gains and biases never are; the paper compresses the resblock
 *                        weights only
 * @param onlyWhenSaving  compress a matrix only when {@code r·(n + m) < n·m}, i.e. when P and Q are
 *                        smaller than the matrix; false compresses every eligible matrix, which the
 *                        full-rank parity check uses
 * @param exactSteps      the first this many exchanges average exactly, uncompressed, and leave the
 *                        error buffers at zero (PyTorch's {@code start_powerSGD_iter}: early training is
 *                        the most sensitive to gradient error); 0 in the paper
 */
public record PowerSgdConfig(int rank, QStart q, long seed, Set<Parameter.Kind> compressedKinds,
                             boolean onlyWhenSaving, int exactSteps) {

    /** Where Q comes from at each update. */
    public enum QStart {
        /** The paper: one fixed random Gaussian Q per matrix for the whole run. */
        FIXED_RANDOM,
        /** PyTorch's PowerSGD hook: start random, then reuse the last all-reduced Q'. */
        WARM_START
    }

    public PowerSgdConfig {
        if (rank < 1) {
            throw new IllegalArgumentException("PowerSGD rank " + rank + " must be at least 1");
        }
        java.util.Objects.requireNonNull(q, "q");
        if (exactSteps < 0) {
            throw new IllegalArgumentException("exact steps " + exactSteps + " must not be negative");
        }
        compressedKinds = Set.copyOf(compressedKinds);
        for (Parameter.Kind k : compressedKinds) {
            if (k != Parameter.Kind.WEIGHT && k != Parameter.Kind.UNEMBEDDING) {
                throw new IllegalArgumentException("parameters of kind " + k
                        + " are never compressed (only WEIGHT and UNEMBEDDING may be)");
            }
        }
    }

    /**
     * The paper's setting at rank {@code rank}: fixed random Q, resblock weights only, only when it saves
     * bytes, compressed from the first update.
     */
    public static PowerSgdConfig paper(int rank, long seed) {
        return new PowerSgdConfig(rank, QStart.FIXED_RANDOM, seed, EnumSet.of(Parameter.Kind.WEIGHT), true, 0);
    }

    public PowerSgdConfig withRank(int r) {
        return new PowerSgdConfig(r, q, seed, compressedKinds, onlyWhenSaving, exactSteps);
    }

    public PowerSgdConfig withQ(QStart start) {
        return new PowerSgdConfig(rank, start, seed, compressedKinds, onlyWhenSaving, exactSteps);
    }

    public PowerSgdConfig withCompressedKinds(Set<Parameter.Kind> kinds) {
        return new PowerSgdConfig(rank, q, seed, kinds, onlyWhenSaving, exactSteps);
    }

    public PowerSgdConfig withOnlyWhenSaving(boolean only) {
        return new PowerSgdConfig(rank, q, seed, compressedKinds, only, exactSteps);
    }

    public PowerSgdConfig withExactSteps(int steps) {
        return new PowerSgdConfig(rank, q, seed, compressedKinds, onlyWhenSaving, steps);
    }
}
