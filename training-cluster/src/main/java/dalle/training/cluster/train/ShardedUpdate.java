package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.train.Seeds;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One update of one worker (PAPER.md, "Distributed optimisation"), collective over the world:
 * <pre>
 *   gather      all-gather every parameter inside the shard group (ZeRO-3), as the precision policy casts it
 *   forward     PriorTask's loss on this worker's slice of the global batch, then backward (both owned
 *               by the precision policy: {@link PrecisionPolicy#lossAndBackward})
 *   reduce      reduce-scatter the gradients inside the shard group: each shard gets the group mean
 *   exchange    {@link ReplicaExchange} across the replica group (exact mean, or {@link ShardPowerSgd})
 *   unscale     {@link PrecisionPolicy} (fp32: nothing; bf16: {@link Bf16Emulated}; fp16: {@link Fp16}'s
 *               per-resblock decision, agreed by all workers)
 *   verdict     one all-reduce of (loss, text, image, "not finite" count): every worker decides alike
 *   clip        the global norm from every shard, core's clip rule ({@link ShardClipping})
 *   step        sharded AdamW, then the sharded weight average ({@link ShardedEma})
 * </pre>
 * An update whose loss or gradient is not finite leaves the weights alone: its gradients are zeroed,
 * and the caller either counts it as skipped (reduced precision) or stops the run (fp32), see
 * {@link PrecisionPolicy#skipsNonFiniteUpdates()}.
 *
 * <p><b>Data.</b> Worker r of W (world rank) with a global batch B takes examples
 * {@code [step·B + r·B/W, step·B + (r+1)·B/W)} of the run's shuffled stream: it calls
 * {@link dalle.core.train.PriorTask#loss} with batch B/W at position {@code step·W + r}. The examples
 * therefore equal a single worker's on the global batch for every W. BPE dropout draws come from rank
 * 0's {@link Seeds#forStep} generator on rank 0 and a (seed, step, rank) generator elsewhere, so with
 * dropout > 0 the dropout pattern (not the examples) depends on W; with dropout 0 the data are exactly
 * the single-worker {@code Trainer}'s.
 *
 * <p><b>Threads.</b> DJL allows one {@link GradientCollector} per JVM at a time, so workers that are
 * threads of one JVM take turns at forward + backward (a JVM-wide lock); the collectives run outside
 * it. Worker processes ({@link PriorWorker}) have a JVM each and run in parallel.
 */
final class ShardedUpdate {

    /** One GradientCollector per JVM: in-process workers serialise forward + backward on it. */
    private static final ReentrantLock AUTOGRAD = new ReentrantLock();
    /** Stream of the BPE-dropout generators of ranks > 0. */
    private static final int WORKER_STREAM = 7;

    /**
     * What one update did.
     *
     * @param record    the update as every worker saw it
     * @param nonFinite when the update was not finite, the names of this worker's shards whose gradient
     *                  was not (possibly none: the loss, or another worker's shard); else empty
     */
    record Outcome(DistributedTrainer.StepRecord record, List<String> nonFinite) {}

    private final DistributedRun run;
    private final Groups groups;
    private final WorkerState state;

    ShardedUpdate(DistributedRun run, Groups groups, WorkerState state) {
        this.run = run;
        this.groups = groups;
        this.state = state;
    }

    /** Runs update {@code s + 1} from the weights after {@code s} updates. */
    Outcome apply(long s) {
        int rank = groups.world().rank();
        int w = run.workers();
        List<ShardView> views = state.views();
        PrecisionPolicy precision = state.precision();
        ReplicaExchange exchange = state.exchange();
        float lr = state.task().learningRate(s, run.steps());
        SplittableRandom rng = rank == 0 ? Seeds.forStep(run.seed(), s)
                : new SplittableRandom(Seeds.mix(run.seed(), s * w + rank, WORKER_STREAM));

        precision.gather(state.sharded(), views);
        float[] shared = new float[4]; // loss, text, image (summed over workers), bad-update count
        AUTOGRAD.lock();
        try (NDManager scope = state.manager().newSubManager()) {
            PrecisionPolicy.Losses loss = precision.lossAndBackward(state.task(), s * w + rank, run.steps(), scope, rng);
            shared[0] = loss.total();
            shared[1] = loss.text();
            shared[2] = loss.image();
        } finally {
            AUTOGRAD.unlock();
        }
        state.sharded().reduceScatterAllGradients();
        long sentBefore = exchange.sentBytes();
        long denseBefore = exchange.denseBytes();
        exchange.exchange(views);
        boolean clean = precision.unscale(views);
        double norm = ShardClipping.globalNorm(views, groups.shard());
        shared[3] = clean && Double.isFinite(norm) ? 0 : 1;
        groups.world().allReduceSum(shared);
        float lossMean = shared[0] / w;
        boolean finite = shared[3] == 0 && Float.isFinite(lossMean);

        List<String> nonFinite = List.of();
        if (finite) {
            ShardClipping.clip(views, norm, run.optimizer().gradClip());
            state.sharded().step(lr);
            state.ema().update(views);
        } else {
            nonFinite = views.stream().filter(v -> !allFinite(v.grad())).map(ShardView::name).toList();
            views.forEach(v -> Arrays.fill(v.grad(), 0f));
        }
        DistributedTrainer.StepRecord record = new DistributedTrainer.StepRecord(s + 1, lossMean, shared[1] / w,
                shared[2] / w, lr, norm, !finite, exchange.sentBytes() - sentBefore,
                exchange.denseBytes() - denseBefore);
        return new Outcome(record, nonFinite);
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
