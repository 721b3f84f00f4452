package dalle.training.cluster.powersgd;

import java.util.ArrayList;
import java.util.List;

/**
 * Which gradients PowerSGD compresses and at what rank, and what that costs in bytes per update.
 * A tensor is compressed when its role is in {@link PowerSgdConfig#compressedKinds()}, it has at
 * least two dimensions (a conv kernel (out, in, kh, kw) is viewed as out × in·kh·kw), and, with
 * {@link PowerSgdConfig#onlyWhenSaving()}, when {@code r·(n + m) < n·m}. 1-D tensors (gains,
 * biases) and embeddings always go uncompressed.
 */
public final class CompressionPlan {

    /**
     * One tensor's decision.
     *
     * @param spec the tensor
     * @param rank the rank it is compressed at, min(r, n, m); 0 when it goes uncompressed
     */
    public record Entry(TensorSpec spec, int rank) {

        public boolean compressed() {
            return rank > 0;
        }

        /** fp32 values this tensor puts on the wire per update: r·(n + m) compressed, n·m otherwise. */
        public long sentValues() {
            return compressed() ? (long) rank * (spec.rows() + spec.columns()) : spec.size();
        }
    }

    private final List<Entry> entries;

    public CompressionPlan(PowerSgdConfig config, List<TensorSpec> tensors) {
        List<Entry> out = new ArrayList<>();
        for (TensorSpec t : tensors) {
            out.add(new Entry(t, rankFor(config, t)));
        }
        this.entries = List.copyOf(out);
    }

    private static int rankFor(PowerSgdConfig config, TensorSpec t) {
        if (!config.compressedKinds().contains(t.kind()) || t.shape().dimension() < 2) {
            return 0;
        }
        long n = t.rows();
        long m = t.columns();
        int r = (int) Math.min(config.rank(), Math.min(n, m));
        boolean saves = r * (n + m) < n * m;
        return saves || !config.onlyWhenSaving() ? r : 0;
    }

    public List<Entry> entries() {
        return entries;
    }

    /** fp32 payload bytes one worker all-reduces per update under this plan. */
    public long sentBytes() {
        return 4 * entries.stream().mapToLong(Entry::sentValues).sum();
    }

    /** fp32 payload bytes of the same gradients all-reduced uncompressed. */
    public long denseBytes() {
        return 4 * entries.stream().mapToLong(e -> e.spec().size()).sum();
    }

    /** Number of compressed tensors. */
    public long compressedCount() {
        return entries.stream().filter(Entry::compressed).count();
    }

    /** One line: tensors compressed, bytes per update sent vs dense, and the ratio. */
    public String summary() {
        return String.format("%d of %d tensors compressed, %d of %d bytes per update sent (%.1fx fewer)",
                compressedCount(), entries.size(), sentBytes(), denseBytes(), (double) denseBytes() / sentBytes());
    }
}
