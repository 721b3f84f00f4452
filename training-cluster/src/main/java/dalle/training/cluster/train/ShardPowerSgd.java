package dalle.training.cluster.train;

import ai.djl.ndarray.types.Shape;
import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.powersgd.CompressionPlan;
import dalle.training.cluster.powersgd.ExchangeStats;
import dalle.training.cluster.powersgd.PowerSgd;
import dalle.training.cluster.powersgd.PowerSgdConfig;
import dalle.training.cluster.powersgd.TensorSpec;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * PowerSGD between groups ("machines") in the {@link DistributedTrainer}: a {@link ReplicaExchange} that
 * runs the {@link PowerSgd} averaging algorithm on this worker's shards, all-reducing means in the
 * replica group.
 *
 * <p><b>What is compressed: each worker's shard, as the paper does.</b> After the reduce-scatter
 * inside a group, worker g of every group owns the same slice {@code [offset, offset + L)} of each
 * flattened parameter (the replica group is exactly the workers owning that slice), so PowerSGD runs
 * per shard rank on that slice. Compressing the full gradient before the reduce-scatter instead would
 * have every worker of a group all-reduce the whole model between groups — W/G times the bytes and
 * the work — and then reduce-scatter a result that is already the mean.
 *
 * <p><b>The slice as a matrix.</b> A parameter of shape (n, ...) is an n × m matrix (m = the product of
 * the other dimensions). Its slice covers flat elements {@code [a, b)} (b stops at the parameter's end:
 * the shard's zero padding is never sent), i.e. rows {@code a/m .. (b−1)/m}. The exchange views the
 * slice as exactly those rows, m wide, zero-filling the part of the first and last row that other
 * shards own: every row of the view is a row of the gradient, so the low-rank structure PowerSGD
 * exploits is the gradient's own (a slice cut across rows would mix neighbouring rows). The
 * zero-filled cells are computed but not written back; their error-feedback entries are carried like
 * any other so the exchange stays deterministic and checkpointable. Slices of 1-D parameters, and
 * matrices the {@link CompressionPlan} leaves uncompressed, are sent as their L values, exactly.
 *
 * <p><b>Bytes.</b> {@link #sentBytes()} counts the fp32 payload this worker all-reduced (P and Q' of
 * every compressed slice, the uncompressed slices whole); {@link #denseBytes()} what the exact mean
 * would have sent for the same slices (4 bytes per real element).
 *
 * <p><b>State.</b> {@link #state()} holds, per compressed slice, {@code <param>.error} (the padded
 * rows × m error buffer) and {@code <param>.q} (m × r), plus {@code exchanges} and the byte totals
 * as 16-bit pieces (exact in a float32 checkpoint); {@link #restore} puts them back, so a resumed run
 * continues bit for bit. Not thread-safe; one instance per worker.
 */
public final class ShardPowerSgd implements ReplicaExchange {

    private static final String EXCHANGES = "exchanges";
    private static final String SENT = "sent_bytes";
    private static final String DENSE = "dense_bytes";

    /** Where one shard's real elements sit in the matrix view handed to PowerSGD. */
    private record Slice(int realLength, int at, float[] buffer) {}

    private final Collectives replicas;
    private final PowerSgd powerSgd;
    private final List<Slice> slices = new ArrayList<>(); // one per shard view, null when it has no real element
    private final List<float[]> buffers = new ArrayList<>();
    private final String name;
    private final long denseBytesPerExchange;
    private long exchanges;
    private long sentBytes;
    private long denseBytes;

    /**
     * @param replicas the replica group (the workers owning the same slices in the other groups)
     * @param config   PowerSGD settings, identical on every worker
     * @param shards   this worker's shard views, in the trainer's order (same layout on every replica)
     */
    public ShardPowerSgd(Collectives replicas, PowerSgdConfig config, List<ShardView> shards) {
        this.replicas = replicas;
        List<TensorSpec> matrices = new ArrayList<>();
        List<int[]> layout = new ArrayList<>(); // per shard: {realLength, at, rows·m} or null
        long dense = 0;
        for (ShardView s : shards) {
            int a = Math.min(s.offset(), s.length());
            int b = Math.min(s.offset() + s.grad().length, s.length());
            int real = b - a;
            if (real == 0) {
                layout.add(null);
                continue;
            }
            dense += real;
            if (s.shape().dimension() >= 2) {
                int m = Math.toIntExact(s.shape().size() / s.shape().get(0));
                int firstRow = a / m;
                int rows = (b - 1) / m - firstRow + 1;
                // the rows of the gradient this slice touches: (rows, m), the cells of other shards zero
                matrices.add(new TensorSpec(s.name(), s.kind(), new Shape(rows, m)));
                layout.add(new int[] {real, a - firstRow * m, rows * m});
            } else {
                matrices.add(new TensorSpec(s.name(), s.kind(), new Shape(real)));
                layout.add(new int[] {real, 0, real});
            }
        }
        // matrices PowerSGD would send whole go as their real values only (no zero-filled cells)
        List<CompressionPlan.Entry> plan = new CompressionPlan(config, matrices).entries();
        List<TensorSpec> specs = new ArrayList<>();
        int k = 0;
        for (int[] l : layout) {
            if (l == null) {
                slices.add(null);
                continue;
            }
            CompressionPlan.Entry e = plan.get(k++);
            if (!e.compressed() && e.spec().shape().dimension() >= 2) {
                l[1] = 0;
                l[2] = l[0];
                specs.add(new TensorSpec(e.spec().name(), e.spec().kind(), new Shape(l[0])));
            } else {
                specs.add(e.spec());
            }
            float[] buffer = new float[l[2]];
            slices.add(new Slice(l[0], l[1], buffer));
            buffers.add(buffer);
        }
        this.powerSgd = specs.isEmpty() ? null : new PowerSgd(config, specs);
        this.denseBytesPerExchange = 4 * dense;
        this.name = "powersgd-r" + config.rank() + "-" + config.q().name().toLowerCase(Locale.ROOT)
                + (config.onlyWhenSaving() ? "" : "-all");
    }

    /**
     * The exchange the paper runs ({@link PowerSgdConfig#paper}): fixed random Q drawn from {@code seed} and
     * each parameter's name, WEIGHT matrices compressed at {@code rank} when that saves bytes, the rest exact.
     */
    public static ShardPowerSgd paper(Collectives replicas, int rank, long seed, List<ShardView> shards) {
        return new ShardPowerSgd(replicas, PowerSgdConfig.paper(rank, seed), shards);
    }

    /** Which slices are compressed and the bytes per update, one line (for logs). */
    public String summary() {
        return powerSgd == null ? "no gradient elements on this shard" : powerSgd.plan().summary();
    }

    @Override
    public String name() {
        return name;
    }

    /** Exchanges done so far (updates, counting those of earlier sessions after a {@link #restore}). */
    public long exchanges() {
        return exchanges;
    }

    @Override
    public void exchange(List<ShardView> shards) {
        if (shards.size() != slices.size()) {
            throw new IllegalArgumentException(shards.size() + " shards for an exchange built for " + slices.size());
        }
        exchanges++;
        if (powerSgd == null || replicas.worldSize() == 1) {
            return; // nothing to agree on: the group's mean is the mean
        }
        for (int i = 0; i < shards.size(); i++) {
            Slice s = slices.get(i);
            if (s != null) {
                Arrays.fill(s.buffer(), 0f);
                System.arraycopy(shards.get(i).grad(), 0, s.buffer(), s.at(), s.realLength());
            }
        }
        ExchangeStats stats = powerSgd.exchange(buffers, replicas::allReduceMean);
        for (int i = 0; i < shards.size(); i++) {
            Slice s = slices.get(i);
            if (s != null) {
                System.arraycopy(s.buffer(), s.at(), shards.get(i).grad(), 0, s.realLength());
            }
        }
        sentBytes += stats.sentBytes();
        denseBytes += denseBytesPerExchange;
    }

    @Override
    public long sentBytes() {
        return sentBytes;
    }

    @Override
    public long denseBytes() {
        return denseBytes;
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> out = new LinkedHashMap<>();
        if (powerSgd != null) {
            out.putAll(powerSgd.state());
        }
        out.put(EXCHANGES, pieces(exchanges));
        out.put(SENT, pieces(sentBytes));
        out.put(DENSE, pieces(denseBytes));
        return out;
    }

    @Override
    public void restore(Map<String, float[]> state) {
        long done = whole(state, EXCHANGES);
        if (powerSgd != null) {
            powerSgd.restore(state, done);
        }
        exchanges = done;
        sentBytes = whole(state, SENT);
        denseBytes = whole(state, DENSE);
    }

    /** A non-negative long as four 16-bit pieces, each exact in float32. */
    private static float[] pieces(long v) {
        return new float[] {(v >>> 48) & 0xFFFF, (v >>> 32) & 0xFFFF, (v >>> 16) & 0xFFFF, v & 0xFFFF};
    }

    private static long whole(Map<String, float[]> state, String key) {
        float[] p = state.get(key);
        if (p == null || p.length != 4) {
            throw new IllegalArgumentException("PowerSGD state " + key + (p == null ? " is missing" : " has "
                    + p.length + " values, expected 4"));
        }
        long v = 0;
        for (float f : p) {
            v = (v << 16) | ((long) f & 0xFFFF);
        }
        return v;
    }
}
