package dalle.training.cluster.shard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.training.cluster.comm.Collectives;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ZeRO-3 parameter sharding inside a group of W workers (PAPER.md, "Distributed optimisation"):
 * each worker owns 1/W of every parameter — the array flattened, padded with zeros to a multiple of
 * W, cut into W equal shards — and the AdamW moments of that shard, all in fp32 on the host.
 *
 * <p>A step, on every worker of the group, each with its own micro-batch of the same size:
 * <pre>{@code
 * sharded.gather(params);            // all-gather: the module's arrays hold the full values, requiring gradients
 * ... forward, GradientCollector backward of the worker's mean loss ...
 * sharded.reduceScatterGradients(params); // each shard gets the mean gradient over the group; full arrays released
 * sharded.step(lr);                  // AdamW on the shards only
 * }</pre>
 * {@code params} may be one block's parameters (gather before the block runs, reduce-scatter after
 * its backward) or all of them. A released parameter holds a zero-storage broadcast view of 0 with
 * its shape, so the module keeps its structure but not its memory.
 *
 * <p>The update is AdamW of {@link dalle.core.nn.AdamW} (bias-corrected, decoupled decay on
 * {@link Parameter.Kind#decayed()} parameters), computed element-wise on the shard: with equal
 * micro-batches it equals single-worker AdamW on the whole batch up to float rounding.
 */
public final class ShardedParameters {

    /** One parameter's slice on this worker. */
    private static final class Shard {
        final String name;
        final Parameter parameter;
        final Shape shape;
        final DataType dtype;
        final int length;      // elements of the full array
        final int shardLength; // ⌈length / W⌉
        final float[] value;
        final float[] m;
        final float[] v;
        final float[] grad;
        NDArray gathered;      // the full array while gathered, else null

        Shard(String name, Parameter parameter, int world) {
            this.name = name;
            this.parameter = parameter;
            NDArray a = parameter.array();
            this.shape = a.getShape();
            this.dtype = a.getDataType();
            this.length = Math.toIntExact(a.size());
            this.shardLength = (length + world - 1) / world;
            this.value = new float[shardLength];
            this.m = new float[shardLength];
            this.v = new float[shardLength];
            this.grad = new float[shardLength];
        }
    }

    /**
     * Largest bucket of one gather or reduce-scatter, in floats over the group (256 Ki floats, 1 MiB): far
     * fewer collectives than one per parameter (each is a round trip through every worker, which over TCP
     * costs more than a small parameter's bytes), while the buffers stay small enough not to be the heap's
     * "humongous" objects that whole-model buffers, allocated every step, would be. A larger parameter
     * travels alone.
     */
    static final int BUCKET_FLOATS = 1 << 18;

    private final Collectives group;
    private final NDManager manager;
    private final Map<String, Shard> shards = new LinkedHashMap<>();
    private final Map<Parameter, Shard> byParameter = new IdentityHashMap<>();
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private long t;

    /**
     * Takes this worker's shard of every parameter's current value (identical on every worker, e.g.
     * from the same seed) and releases the full arrays. Collective only in spirit: no communication.
     *
     * @param manager where gathered arrays and placeholders live (the module's manager)
     */
    public ShardedParameters(Collectives group, NDManager manager, Map<String, Parameter> params, float beta1,
                             float beta2, float eps, float weightDecay) {
        this.group = group;
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int w = group.worldSize();
        params.forEach((name, p) -> {
            Shard s = new Shard(name, p, w);
            NDArray initial = p.array();
            float[] full = initial.getDataType() == DataType.FLOAT32 ? initial.toFloatArray()
                    : initial.toType(DataType.FLOAT32, true).toFloatArray();
            int from = group.rank() * s.shardLength;
            System.arraycopy(full, Math.min(from, full.length), s.value, 0,
                    Math.max(0, Math.min(s.shardLength, full.length - from)));
            shards.put(name, s);
            byParameter.put(p, s);
            release(s);
            initial.close(); // the whole point: this worker keeps only its shard
        });
    }

    /** Number of updates applied. */
    public long steps() {
        return t;
    }

    /** Elements of every shard this worker holds, padding included (the 1/W of the model it owns). */
    public long shardElements() {
        return shards.values().stream().mapToLong(s -> s.shardLength).sum();
    }

    /** All-gathers every parameter. */
    public void gatherAll() {
        gather(parameters());
    }

    /**
     * All-gathers these parameters into their module arrays (dtype kept) and marks them as requiring
     * gradients. The parameters travel together, in {@link #bucketsOf buckets} of up to
     * {@value #BUCKET_FLOATS} floats: one all-gather per bucket, not one per parameter.
     */
    public void gather(Collection<Parameter> params) {
        int w = group.worldSize();
        for (List<Shard> bucket : bucketsOf(params)) {
            int per = chunkLength(bucket);
            float[] mine = new float[per];
            int at = 0;
            for (Shard s : bucket) {
                System.arraycopy(s.value, 0, mine, at, s.shardLength);
                at += s.shardLength;
            }
            float[] all = group.allGather(mine, Math.multiplyExact(per, w)); // chunk q: rank q's shards, in order
            at = 0;
            for (Shard s : bucket) {
                float[] full = new float[s.length];
                for (int q = 0; q < w; q++) {
                    int from = q * s.shardLength;
                    int n = Math.min(s.shardLength, s.length - from);
                    if (n > 0) {
                        System.arraycopy(all, q * per + at, full, from, n);
                    }
                }
                at += s.shardLength;
                install(s, full);
            }
        }
    }

    private void install(Shard s, float[] full) {
        NDArray a = manager.create(full, s.shape);
        if (s.dtype != DataType.FLOAT32) {
            NDArray cast = a.toType(s.dtype, false);
            a.close();
            a = cast;
        }
        a.setRequiresGradient(true);
        closeGathered(s);
        s.gathered = a;
        s.parameter.set(a);
    }

    /** Reduce-scatters every gathered parameter's gradient, then releases it. */
    public void reduceScatterAllGradients() {
        reduceScatterGradients(parameters());
    }

    /**
     * Each worker's shard receives the mean over the group of these parameters' gradients (added to
     * what earlier calls left since the last {@link #step}); the full arrays and their gradients are released.
     * One reduce-scatter per {@link #bucketsOf bucket}: every gradient of the bucket is laid out rank-major
     * (chunk q holds shard q of each), so each element is summed in the same ring order, bit for bit, as a
     * reduce-scatter of its parameter alone.
     *
     * @throws IllegalStateException when a parameter is not gathered (before anything is sent)
     */
    public void reduceScatterGradients(Collection<Parameter> params) {
        int w = group.worldSize();
        List<List<Shard>> buckets = bucketsOf(params);
        for (List<Shard> bucket : buckets) {
            for (Shard s : bucket) {
                if (s.gathered == null) {
                    throw new IllegalStateException("parameter " + s.name + " is not gathered: no gradient to reduce");
                }
            }
        }
        for (List<Shard> bucket : buckets) {
            int per = chunkLength(bucket);
            float[] g = new float[Math.multiplyExact(per, w)];
            int at = 0;
            for (Shard s : bucket) {
                try (NDManager tmp = manager.newSubManager()) {
                    NDArray grad = s.gathered.getGradient();
                    grad.attach(tmp);
                    float[] full = grad.toType(DataType.FLOAT32, false).toFloatArray();
                    for (int q = 0; q < w; q++) {
                        int from = q * s.shardLength;
                        int n = Math.min(s.shardLength, s.length - from);
                        if (n > 0) {
                            System.arraycopy(full, from, g, q * per + at, n);
                        }
                    }
                }
                at += s.shardLength;
                closeGathered(s);
                release(s);
            }
            float[] mine = group.reduceScatter(g);
            at = 0;
            for (Shard s : bucket) {
                for (int i = 0; i < s.shardLength; i++) {
                    s.grad[i] += mine[at + i] / w;
                }
                at += s.shardLength;
            }
        }
    }

    /**
     * The parameters' shards in consecutive buckets of at most {@value #BUCKET_FLOATS} floats over the
     * group (a larger parameter alone in its bucket), so that each collective is large but bounded.
     */
    private List<List<Shard>> bucketsOf(Collection<Parameter> params) {
        int w = group.worldSize();
        List<List<Shard>> buckets = new ArrayList<>();
        List<Shard> current = new ArrayList<>();
        long floats = 0;
        for (Parameter p : params) {
            Shard s = shard(p);
            long size = (long) s.shardLength * w;
            if (!current.isEmpty() && floats + size > BUCKET_FLOATS) {
                buckets.add(current);
                current = new ArrayList<>();
                floats = 0;
            }
            current.add(s);
            floats += size;
        }
        if (!current.isEmpty()) {
            buckets.add(current);
        }
        return buckets;
    }

    private static int chunkLength(List<Shard> bucket) {
        int per = 0;
        for (Shard s : bucket) {
            per = Math.addExact(per, s.shardLength);
        }
        return per;
    }

    /** One AdamW update of this worker's shards at learning rate {@code lr}; shard gradients are then zeroed. */
    public void step(float lr) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) (lr * Math.sqrt(bc2) / bc1);
        float epsHat = eps * (float) Math.sqrt(bc2);
        for (Shard s : shards.values()) {
            boolean decay = weightDecay != 0 && s.parameter.kind().decayed();
            float keep = 1 - lr * weightDecay;
            for (int i = 0; i < s.shardLength; i++) {
                float g = s.grad[i];
                s.m[i] = s.m[i] * beta1 + g * (1 - beta1);
                s.v[i] = s.v[i] * beta2 + g * g * (1 - beta2);
                if (decay) {
                    s.value[i] *= keep;
                }
                s.value[i] -= s.m[i] / ((float) Math.sqrt(s.v[i]) + epsHat) * stepSize;
                s.grad[i] = 0;
            }
        }
    }

    /**
     * A live view of this worker's slice of one parameter: elements {@code [offset, offset + value.length)}
     * of the flattened array (the tail past {@code length} is padding, always 0). The arrays ARE the
     * sharded state: a gradient exchange, clipping or a checkpoint restore writes them in place.
     *
     * @param length elements of the full parameter
     * @param offset where this shard starts in the flattened, padded parameter
     */
    public record ShardView(String name, Parameter.Kind kind, Shape shape, int length, int offset, float[] value,
                            float[] m, float[] v, float[] grad) {}

    /** Every shard this worker holds, in parameter order (live arrays, see {@link ShardView}). */
    public List<ShardView> views() {
        List<ShardView> out = new ArrayList<>(shards.size());
        int rank = group.rank();
        shards.values().forEach(s -> out.add(new ShardView(s.name, s.parameter.kind(), s.shape, s.length,
                rank * s.shardLength, s.value, s.m, s.v, s.grad)));
        return out;
    }

    /** Sets the number of updates applied (AdamW's bias correction), when restoring a checkpoint. */
    public void restoreSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("update count must be non-negative, got " + steps);
        }
        t = steps;
    }

    /** The full current value of one parameter (collective: every worker must call it). */
    public float[] gatherValue(String name) {
        Shard s = shards.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no sharded parameter named " + name);
        }
        return Arrays.copyOf(group.allGather(s.value, s.shardLength * group.worldSize()), s.length);
    }

    private List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        shards.values().forEach(s -> out.add(s.parameter));
        return out;
    }

    private Shard shard(Parameter p) {
        Shard s = byParameter.get(p);
        if (s == null) {
            throw new IllegalArgumentException("parameter " + p.name() + " is not sharded here");
        }
        return s;
    }

    /** The module keeps a zero-storage view (torch expand of one zero) with the right shape. */
    private void release(Shard s) {
        NDArray zero = manager.zeros(new Shape(1), s.dtype);
        s.parameter.set(zero.broadcast(s.shape));
        zero.close();
    }

    private static void closeGathered(Shard s) {
        if (s.gathered != null) {
            s.gathered.close();
            s.gathered = null;
        }
    }
}
