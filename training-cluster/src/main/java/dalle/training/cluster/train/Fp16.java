package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.precision.BranchGradientTap;
import dalle.training.cluster.precision.ComputePrecision;
import dalle.training.cluster.precision.MixedPrecisionPrior;
import dalle.training.cluster.precision.ResblockGradScaler;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.train.PriorTask;
import dalle.core.transformer.DallePrior;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code --precision fp16} in the {@link DistributedTrainer}: the paper's fp16 training with
 * per-resblock gradient scaling (PAPER.md, "Mixed precision"), run by {@link MixedPrecisionPrior}
 * with {@link ComputePrecision#FP16} on each worker.
 * <pre>
 *   gather           every parameter all-gathered in fp32 (the default): the sharded fp32 values are
 *                    the masters, the gathered fp32 arrays their per-update full copies
 *   lossAndBackward  the worker's batch ({@link PriorTask#batch}, the same data and RNG draws as
 *                    {@link PriorTask#loss}); MixedPrecisionPrior makes fp16 compute copies of the
 *                    resblock weights, runs the resblocks in fp16 on an fp32 identity path, and back-
 *                    propagates block by block: the gradient entering resblock u is multiplied by its
 *                    scale s_u, the one leaving it has Inf/NaN set to zero and is divided by s_u again.
 *                    Each resblock's parameter gradients are divided by s_u before they leave the
 *                    worker, so the reduce-scatter and the exchange see true fp32 gradients. Local
 *                    flags: per resblock, were its gradients finite; were the rest and the loss finite
 *   unscale          the flags are agreed by the whole world: an all-reduce sum of 0/1 "not finite"
 *                    counts (2L + 1 floats), so a resblock counts as overflowed when it overflowed on
 *                    any worker. The same {@link ResblockGradScaler} rules then run on the same flags
 *                    on every worker: skip the update and shrink (÷√2, at most once per 125 updates)
 *                    the overflowing resblocks' scales only, or apply it and grow every scale ×2^(1/1000)
 *   step             sharded AdamW on the fp32 masters, fp32 moments (the trainer)
 * </pre>
 * Every worker therefore holds the same scales at every step (they start at W·2^13 for W workers, the
 * paper's M data-parallel replicas, clamped to [W·2^7, W·2^24]). {@link #state()} saves the scaler
 * exactly (the double scales' bits, the last shrink of each scale, the update and skip counts, each
 * 64-bit value as four 16-bit chunks stored as exact floats), so a resumed run continues bit for bit.
 *
 * <p>Limits: FLOAT16 is correct but very slow on CPUs without fp16 units (TOOLCHAIN.md), so here it
 * is for small presets; gains and biases of the resblocks enter the fp16 ops as fp16 copies (a DJL op
 * needs one dtype) but keep fp32 masters and gradients. When the trainer skips an update for its own
 * reasons (a non-finite norm after the exchange) after the scaler grew its scales, they stay grown.
 * One instance per worker ({@link #bind} once); not thread-safe.
 */
public final class Fp16 implements PrecisionPolicy {

    /** The checkpoint key of the scaler's state. */
    public static final String SCALER = "scaler";

    private final BranchGradientTap tap;
    private MixedPrecisionPrior mixed;
    private Collectives world;
    private boolean[] resblockFinite;
    private boolean restFinite;
    private ResblockGradScaler.Decision last;

    /** The paper's fp16 with no fault injection. */
    public Fp16() {
        this(BranchGradientTap.NONE);
    }

    /**
     * @param tap sees the scaled gradient entering each resblock during the backward pass (fault
     *            injection in tests; {@link BranchGradientTap#NONE} otherwise)
     */
    public Fp16(BranchGradientTap tap) {
        this.tap = tap;
    }

    @Override
    public String name() {
        return "fp16";
    }

    /** Builds this worker's scaler: one scale per resblock (2 per layer), starting at W·2^13. */
    @Override
    public void bind(DallePrior model, Groups groups) {
        if (mixed != null) {
            throw new IllegalStateException("an fp16 policy serves one worker; it is bound already");
        }
        world = groups.world();
        int resblocks = MixedPrecisionPrior.resblocks(model.config().layers());
        mixed = new MixedPrecisionPrior(model, ComputePrecision.FP16,
                new ResblockGradScaler(resblocks, world.worldSize()));
    }

    @Override
    public Losses lossAndBackward(PriorTask task, long position, long totalSteps, NDManager scope,
                                  SplittableRandom rng) {
        MixedPrecisionPrior m = bound();
        PriorTask.Batch batch = task.batch(position, scope, rng);
        MixedPrecisionPrior.Backward g = m.lossAndGradients(batch.text(), batch.image(), tap);
        resblockFinite = g.resblockFinite();
        restFinite = g.restFinite() && Float.isFinite(g.loss());
        return new Losses(g.loss(), g.text(), g.image());
    }

    /**
     * Agrees on the finiteness flags with every worker and applies the scaler's rules. The gradients
     * were unscaled per resblock before the reduction, so nothing is divided here.
     *
     * @return false (skip the update) when any worker saw a non-finite gradient or loss
     */
    @Override
    public boolean unscale(List<ShardView> shards) {
        MixedPrecisionPrior m = bound();
        if (resblockFinite == null) {
            throw new IllegalStateException("unscale before lossAndBackward");
        }
        int r = resblockFinite.length;
        float[] bad = new float[r + 1];
        for (int u = 0; u < r; u++) {
            bad[u] = resblockFinite[u] ? 0 : 1;
        }
        bad[r] = restFinite ? 0 : 1;
        world.allReduceSum(bad);
        boolean[] finite = new boolean[r];
        for (int u = 0; u < r; u++) {
            finite[u] = bad[u] == 0;
        }
        last = m.scaler().update(finite, bad[r] == 0);
        resblockFinite = null;
        return last.apply();
    }

    /** The current per-resblock scales (see {@link MixedPrecisionPrior#resblockNames()} for the order). */
    public float[] scales() {
        return bound().scaler().scales();
    }

    /** The scaler's last decision, null before the first update of this session. */
    public ResblockGradScaler.Decision lastDecision() {
        return last;
    }

    @Override
    public Map<String, float[]> state() {
        return Map.of(SCALER, encode(bound().scaler().snapshot()));
    }

    /** @throws IllegalArgumentException when the checkpoint holds no scaler state or one of another shape */
    @Override
    public void restore(Map<String, float[]> state) {
        float[] saved = state.get(SCALER);
        if (saved == null || state.size() != 1) {
            throw new IllegalArgumentException("an fp16 checkpoint must hold exactly the precision state '" + SCALER
                    + "', found " + state.keySet());
        }
        bound().scaler().restore(decode(saved));
    }

    private MixedPrecisionPrior bound() {
        if (mixed == null) {
            throw new IllegalStateException("the fp16 policy is not bound to a model (DistributedTrainer binds it)");
        }
        return mixed;
    }

    /** Each long as four 16-bit chunks, most significant first; every chunk is an exact float in [0, 65535]. */
    static float[] encode(long[] values) {
        float[] out = new float[values.length * 4];
        for (int i = 0; i < values.length; i++) {
            for (int k = 0; k < 4; k++) {
                out[4 * i + k] = (values[i] >>> (48 - 16 * k)) & 0xFFFF;
            }
        }
        return out;
    }

    /** Inverse of {@link #encode}. */
    static long[] decode(float[] chunks) {
        if (chunks.length % 4 != 0) {
            throw new IllegalArgumentException("scaler state of " + chunks.length + " values is not whole 64-bit values");
        }
        long[] out = new long[chunks.length / 4];
        for (int i = 0; i < out.length; i++) {
            long v = 0;
            for (int k = 0; k < 4; k++) {
                float c = chunks[4 * i + k];
                if (!(c >= 0 && c <= 0xFFFF && c == Math.rint(c))) {
                    throw new IllegalArgumentException("scaler state value " + c + " is not a 16-bit chunk");
                }
                v = (v << 16) | (long) c;
            }
            out[i] = v;
        }
        return out;
    }
}
