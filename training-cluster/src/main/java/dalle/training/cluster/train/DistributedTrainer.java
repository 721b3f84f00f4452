package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import dalle.core.io.SafeTensors;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.NonFiniteUpdateException;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.PriorTask;
import dalle.core.train.Seeds;
import dalle.core.train.StepLoss;
import dalle.core.train.StepMetrics;
import dalle.core.train.Trainer;
import dalle.core.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One worker of a distributed prior run (PAPER.md, "Distributed optimisation"). Each update:
 * <pre>
 *   gather      all-gather every parameter inside the shard group (ZeRO-3), as the precision policy casts it
 *   forward     PriorTask's loss on this worker's slice of the global batch, then backward (both owned
 *               by the precision policy: {@link PrecisionPolicy#lossAndBackward})
 *   reduce      reduce-scatter the gradients inside the shard group: each shard gets the group mean
 *   exchange    {@link ReplicaExchange} across the replica group (exact mean, or {@link ShardPowerSgd})
 *   unscale     {@link PrecisionPolicy} (fp32: nothing; bf16: {@link Bf16Emulated}; fp16: {@link Fp16}'s
 *               per-resblock decision, agreed by all workers)
 *   clip        global norm from every shard (all-reduce in the shard group), the paper's clip
 *   step        sharded AdamW (+ a sharded weight EMA), unless the loss or a gradient was not finite
 * </pre>
 * The loss reported is the mean over all workers, i.e. the global batch's loss.
 *
 * <p><b>Data.</b> Worker r of W (world rank) with a global batch B takes examples
 * {@code [step·B + r·B/W, step·B + (r+1)·B/W)} of the run's shuffled stream: it calls
 * {@link PriorTask#loss} with batch B/W at position {@code step·W + r}. The examples therefore equal a
 * single worker's on the global batch for every W. BPE dropout draws come from rank 0's
 * {@link Seeds#forStep} generator on rank 0 and a (seed, step, rank) generator elsewhere, so with
 * dropout > 0 the dropout pattern (not the examples) depends on W; with dropout 0 the data are
 * exactly the single-worker {@link Trainer}'s.
 *
 * <p><b>Threads.</b> DJL allows one {@link GradientCollector} per JVM at a time, so workers that are
 * threads of one JVM take turns at forward + backward (a JVM-wide lock); the collectives run outside
 * it. Worker processes ({@link PriorWorker}) have a JVM each and run in parallel.
 */
public final class DistributedTrainer implements AutoCloseable {

    /** One GradientCollector per JVM: in-process workers serialise forward + backward on it. */
    private static final ReentrantLock AUTOGRAD = new ReentrantLock();
    /** Stream of the BPE-dropout generators of ranks > 0. */
    private static final int WORKER_STREAM = 7;

    /**
     * One update as every worker saw it (global-batch values).
     *
     * @param sentBytes  fp32 payload bytes this worker all-reduced between groups in this update
     * @param denseBytes what the exact mean would have all-reduced (the same as sentBytes for it)
     */
    public record StepRecord(long step, float loss, float text, float image, float lr, double gradNorm,
                             boolean skipped, long sentBytes, long denseBytes) {}

    /**
     * What a {@link #run} did: the updates of this session and where the run stands.
     *
     * @param sentBytes  this worker's between-group bytes over the whole run (earlier sessions included
     *                   when the exchange keeps them in its checkpoint state, as PowerSGD does)
     * @param denseBytes the same for the exact mean
     */
    public record Result(long step, long totalSteps, List<StepRecord> steps, double sessionSeconds, long sentBytes,
                         long denseBytes) {

        /** The loss of the last update of this session (NaN when none ran). */
        public float lastLoss() {
            return steps.isEmpty() ? Float.NaN : steps.get(steps.size() - 1).loss();
        }
    }

    private final DistributedRun run;
    private final Path out;
    private final Groups groups;
    private final ReplicaExchange exchange; // built on this worker's shard views
    private final PrecisionPolicy precision;
    private final TrainingListener listener;
    private final NDManager manager;
    private final PriorTask task;
    private final ShardedParameters sharded;
    private final List<ShardView> views;
    private final List<float[]> ema; // null without an EMA
    private final Map<String, String> identity;
    private final MetricsFile metrics; // rank 0 only
    private long step;
    private long skipped;
    private List<String> nonFiniteShards = List.of(); // of an fp32 update that stops the run, this worker's view
    private double wallBefore;

    /**
     * Builds this worker's model from the seed (identical on every worker), shards it, and resumes
     * from the run's last checkpoint if {@code resume} and one exists.
     *
     * @throws CheckpointException naming the file when the checkpoint is corrupt or made by another run
     */
    public DistributedTrainer(DistributedRun run, Path out, Groups groups, CodeCache codes, BpeTokenizer tokenizer,
                              ReplicaExchange exchange, PrecisionPolicy precision, boolean resume,
                              TrainingListener listener) throws IOException {
        this(run, out, groups, codes, tokenizer, shards -> exchange, precision, resume, listener);
    }

    /**
     * As above, with the exchange built from this worker's shard views once the model is sharded (an
     * exchange with per-shard state, such as {@link ShardPowerSgd}, needs their names and layout).
     *
     * @throws CheckpointException naming the file when the checkpoint is corrupt or made by another run
     */
    public DistributedTrainer(DistributedRun run, Path out, Groups groups, CodeCache codes, BpeTokenizer tokenizer,
                              Function<List<ShardView>, ReplicaExchange> exchangeFor, PrecisionPolicy precision,
                              boolean resume, TrainingListener listener) throws IOException {
        if (groups.world().worldSize() != run.workers() || groups.shard().worldSize() != run.groupSize()) {
            throw new IllegalArgumentException("collectives of " + groups.world().worldSize() + " workers in groups of "
                    + groups.shard().worldSize() + " do not match the run's " + run.workers() + " workers in "
                    + run.groups() + " groups");
        }
        this.run = run;
        this.out = out;
        this.groups = groups;
        this.precision = precision;
        this.listener = listener;
        this.manager = NDManager.newBaseManager();
        try {
            OptimizerSettings o = run.optimizer();
            task = new PriorTask(manager, run.config(), codes, tokenizer, run.workerBatch(), run.seed(), run.schedule(),
                    o, run.bpeDropout());
            sharded = new ShardedParameters(groups.shard(), manager, task.model().parameters(), o.beta1(), o.beta2(),
                    o.eps(), o.weightDecay());
            views = sharded.views();
            exchange = exchangeFor.apply(views);
            precision.bind(task.model(), groups);
            if (o.emaDecay() > 0) {
                ema = new ArrayList<>();
                views.forEach(v -> ema.add(v.value().clone()));
            } else {
                ema = null;
            }
            identity = new LinkedHashMap<>(task.identity());
            identity.put("batch", Integer.toString(run.globalBatch())); // the global batch, not the slice
            identity.put("exchange", exchange.name());
            identity.put("precision", precision.name());
            Files.createDirectories(out);
            if (resume && ShardCheckpoint.exists(out)) {
                restoreEverywhere();
            }
            metrics = groups.world().rank() == 0 ? new MetricsFile(out.resolve("metrics.jsonl"), step) : null;
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The exchange between groups this worker runs. */
    public ReplicaExchange exchange() {
        return exchange;
    }

    /** Updates done so far. */
    public long step() {
        return step;
    }

    /** Runs to the end of the budget. */
    public Result run() throws IOException {
        return run(run.steps());
    }

    /**
     * Runs until {@code untilStep} updates are done, checkpointing every {@code checkpointEvery}
     * updates and at the end; when the budget is spent rank 0 writes the final model (the EMA
     * weights if the run keeps one) to {@code out/model/}. Collective over the world.
     */
    public Result run(long untilStep) throws IOException {
        if (untilStep < step || untilStep > run.steps()) {
            throw new IllegalArgumentException("cannot run until step " + untilStep + ": at step " + step + " of "
                    + run.steps());
        }
        long start = System.nanoTime();
        List<StepRecord> records = new ArrayList<>();
        long lastCheckpoint = -1;
        while (step < untilStep) {
            StepRecord r = update();
            records.add(r);
            double session = (System.nanoTime() - start) / 1e9;
            if (metrics != null) {
                Map<String, Float> losses = new LinkedHashMap<>();
                losses.put(Trainer.LOSS, r.loss());
                losses.put("text", r.text());
                losses.put("image", r.image());
                StepMetrics m = new StepMetrics(r.step(), run.steps(), losses, r.lr(), Map.of(), r.gradNorm(),
                        r.skipped(), records.size() / session, wallBefore + session);
                metrics.append(m, r.sentBytes(), r.denseBytes());
                if (!r.skipped() || precision.skipsNonFiniteUpdates()) {
                    listener.onStep(m);
                }
            }
            if (r.skipped() && !precision.skipsNonFiniteUpdates()) {
                // every worker saw the same all-reduced verdict: all checkpoint the sound updates, then stop
                if (step > 0 && lastCheckpoint != step) {
                    checkpoint(wallBefore + session);
                }
                throw new NonFiniteUpdateException(r.step(), run.steps(), r.loss(), r.gradNorm(), nonFiniteShards,
                        step > 0 ? "The last checkpoint is at update " + step + " in " + out + "."
                                : "No checkpoint was written yet.");
            }
            if (step % run.checkpointEvery() == 0 || step == run.steps()) {
                checkpoint(wallBefore + session);
                lastCheckpoint = step;
            }
        }
        double session = (System.nanoTime() - start) / 1e9;
        if (lastCheckpoint != step && !records.isEmpty()) {
            checkpoint(wallBefore + session);
        }
        if (step == run.steps()) {
            saveFinalModel();
        }
        wallBefore += session;
        return new Result(step, run.steps(), records, session, exchange.sentBytes(), exchange.denseBytes());
    }

    private StepRecord update() {
        long s = step;
        int rank = groups.world().rank();
        int w = run.workers();
        float lr = task.learningRate(s, run.steps());
        SplittableRandom rng = rank == 0 ? Seeds.forStep(run.seed(), s)
                : new SplittableRandom(Seeds.mix(run.seed(), s * w + rank, WORKER_STREAM));
        precision.gather(sharded, views);
        float[] shared = new float[4]; // loss, text, image (summed over workers), bad-update count
        AUTOGRAD.lock();
        try (NDManager scope = manager.newSubManager()) {
            PrecisionPolicy.Losses loss = precision.lossAndBackward(task, s * w + rank, run.steps(), scope, rng);
            shared[0] = loss.total();
            shared[1] = loss.text();
            shared[2] = loss.image();
        } finally {
            AUTOGRAD.unlock();
        }
        sharded.reduceScatterAllGradients();
        long sentBefore = exchange.sentBytes();
        long denseBefore = exchange.denseBytes();
        exchange.exchange(views);
        boolean clean = precision.unscale(views);
        double norm = gradientNorm();
        shared[3] = clean && Double.isFinite(norm) ? 0 : 1;
        groups.world().allReduceSum(shared);
        float lossMean = shared[0] / w;
        boolean skip = shared[3] > 0 || !Float.isFinite(lossMean);
        if (skip && !precision.skipsNonFiniteUpdates()) {
            nonFiniteShards = views.stream().filter(v -> !allFinite(v.grad())).map(ShardView::name).toList();
            views.forEach(v -> Arrays.fill(v.grad(), 0f));
            return new StepRecord(s + 1, lossMean, shared[1] / w, shared[2] / w, lr, norm, true,
                    exchange.sentBytes() - sentBefore, exchange.denseBytes() - denseBefore); // step stays at s
        }
        if (skip) {
            views.forEach(v -> Arrays.fill(v.grad(), 0f));
            skipped++;
        } else {
            float clip = run.optimizer().gradClip();
            if (clip > 0 && norm > clip) {
                float scale = (float) (clip / norm);
                views.forEach(v -> {
                    float[] g = v.grad();
                    for (int i = 0; i < g.length; i++) {
                        g[i] *= scale;
                    }
                });
            }
            sharded.step(lr);
            if (ema != null) {
                float decay = run.optimizer().emaDecay();
                for (int k = 0; k < views.size(); k++) {
                    float[] avg = ema.get(k);
                    float[] value = views.get(k).value();
                    for (int i = 0; i < avg.length; i++) {
                        avg[i] = avg[i] * decay + value[i] * (1f - decay);
                    }
                }
            }
        }
        step = s + 1;
        return new StepRecord(step, lossMean, shared[1] / w, shared[2] / w, lr, norm, skip,
                exchange.sentBytes() - sentBefore, exchange.denseBytes() - denseBefore);
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** L2 norm of the whole (group-reduced, exchanged) gradient: each shard group holds all of it once. */
    private double gradientNorm() {
        double local = 0;
        for (ShardView v : views) {
            for (float g : v.grad()) {
                local += (double) g * g;
            }
        }
        float[] sum = {(float) local};
        groups.shard().allReduceSum(sum);
        return Math.sqrt(sum[0]);
    }

    // ---- checkpoints ---------------------------------------------------------------------------

    private void checkpoint(double wallSeconds) throws IOException {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            tensors.put(v.name() + ".value", v.value());
            tensors.put(v.name() + ".m", v.m());
            tensors.put(v.name() + ".v", v.v());
            if (ema != null) {
                tensors.put(v.name() + ".ema", ema.get(k));
            }
        }
        exchange.state().forEach((k, a) -> tensors.put("exchange." + k, a));
        precision.state().forEach((k, a) -> tensors.put("precision." + k, a));
        ShardCheckpoint.Manifest m = new ShardCheckpoint.Manifest(ShardCheckpoint.FORMAT, step, run.steps(),
                run.workers(), run.groups(), run.seed(), step * run.globalBatch(), sharded.steps(), skipped,
                wallSeconds, identity, Map.of());
        Path dir = ShardCheckpoint.write(out, groups.world(), tensors, m);
        if (metrics != null) {
            listener.onCheckpoint(step, dir);
        }
    }

    /** Every worker restores its shard; if any refuses, all fail (instead of waiting on it in a collective). */
    private void restoreEverywhere() {
        RuntimeException refused = null;
        try {
            restore();
        } catch (RuntimeException e) {
            refused = e;
        }
        float[] refusals = {refused != null ? 1 : 0};
        groups.world().allReduceSum(refusals);
        if (refused != null) {
            throw refused;
        }
        if (refusals[0] > 0) {
            throw new CheckpointException(ShardCheckpoint.resumable(out), (int) refusals[0]
                    + " other worker(s) refused this checkpoint (their messages say why)");
        }
    }

    private void restore() {
        Path dir = ShardCheckpoint.resumable(out);
        ShardCheckpoint.Manifest m = ShardCheckpoint.readManifest(dir, run.workers(), run.groups(), run.seed(), identity);
        if (m.step() > run.steps()) {
            throw new CheckpointException(dir.resolve(ShardCheckpoint.MANIFEST), "the checkpoint is at step " + m.step()
                    + ", past this run's budget of " + run.steps() + " steps");
        }
        int rank = groups.world().rank();
        Path file = dir.resolve(ShardCheckpoint.shardFile(rank));
        Map<String, float[]> saved = ShardCheckpoint.readShard(dir, m, rank);
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            copy(saved, v.name() + ".value", v.value(), file);
            copy(saved, v.name() + ".m", v.m(), file);
            copy(saved, v.name() + ".v", v.v(), file);
            if (ema != null) {
                copy(saved, v.name() + ".ema", ema.get(k), file);
            }
        }
        exchange.restore(prefixed(saved, "exchange."));
        precision.restore(prefixed(saved, "precision."));
        sharded.restoreSteps(m.optimizerSteps());
        step = m.step();
        skipped = m.skippedUpdates();
        wallBefore = m.wallSeconds();
        if (rank == 0) {
            listener.onNote("resuming from " + dir + " at step " + step + " of " + run.steps() + " ("
                    + m.examplesSeen() + " examples seen)");
        }
    }

    private static void copy(Map<String, float[]> saved, String name, float[] into, Path file) {
        float[] a = saved.get(name);
        if (a == null) {
            throw new CheckpointException(file, "missing tensor " + name);
        }
        if (a.length != into.length) {
            throw new CheckpointException(file, "tensor " + name + " has " + a.length + " elements, expected "
                    + into.length);
        }
        System.arraycopy(a, 0, into, 0, a.length);
    }

    private static Map<String, float[]> prefixed(Map<String, float[]> saved, String prefix) {
        Map<String, float[]> out = new LinkedHashMap<>();
        saved.forEach((k, a) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), a);
            }
        });
        return out;
    }

    /** Gathers the final weights (the EMA when kept) in each shard group; world rank 0 writes them. */
    private void saveFinalModel() throws IOException {
        int groupSize = groups.shard().worldSize();
        Map<String, float[]> full = new LinkedHashMap<>();
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            float[] mine = ema != null ? ema.get(k) : v.value();
            float[] all = groups.shard().allGather(mine, mine.length * groupSize);
            full.put(v.name(), Arrays.copyOf(all, v.length()));
        }
        if (groups.world().rank() == 0) {
            Path dir = out.resolve(Trainer.MODEL_DIR);
            Path tmp = out.resolve(Trainer.MODEL_DIR + ".tmp");
            DurableFiles.deleteRecursively(tmp);
            try (NDManager scope = manager.newSubManager()) {
                Module model = task.newModel(scope);
                for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
                    Parameter p = e.getValue();
                    p.set(scope.create(full.get(e.getKey()), p.array().getShape()));
                }
                Checkpoints.save(tmp, task.kind(), task.config(), model, SafeTensors.Storage.F32);
            }
            DurableFiles.deleteRecursively(dir);
            DurableFiles.move(tmp, dir);
        }
        groups.world().barrier();
    }

    @Override
    public void close() throws IOException {
        try {
            if (metrics != null) {
                metrics.close();
            }
        } finally {
            task.close();
            manager.close();
        }
    }
}
