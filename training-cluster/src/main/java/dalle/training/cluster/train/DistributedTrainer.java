package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.core.io.CheckpointException;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.NonFiniteUpdateException;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.PriorTask;
import dalle.core.train.StepMetrics;
import dalle.core.train.Trainer;
import dalle.core.train.TrainingListener;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One worker of a distributed prior run (PAPER.md, "Distributed optimisation"): runs
 * {@link ShardedUpdate}s until the budget or a given step, writing {@code metrics.jsonl} (rank 0),
 * checkpoints ({@link TrainerCheckpoints}) and, at the end, the model ({@link FinalModel}).
 * The loss reported is the mean over all workers, i.e. the global batch's loss.
 *
 * <pre>{@code
 * try (DistributedTrainer t = DistributedTrainer.builder()
 *         .setRun(run).setOutput(dir).setGroups(Groups.machines(world, run.groupSize())).setData(codes, tokenizer)
 *         .optResume(true).optListener(listener)
 *         .build()) {
 *     t.run();
 * }
 * }</pre>
 *
 * <p><b>Non-finite updates.</b> In reduced precision (fp16, bf16) an update whose loss or gradient is
 * not finite is skipped, the paper's rule. In fp32 it stops the run: every worker saw the same
 * all-reduced verdict, so all checkpoint the sound updates and throw a {@link NonFiniteUpdateException}
 * naming the update and this worker's non-finite shards ({@link PrecisionPolicy#skipsNonFiniteUpdates()}).
 */
public final class DistributedTrainer implements AutoCloseable {

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
    private final WorkerState state;
    private final ShardedUpdate update;
    private final TrainerCheckpoints checkpoints;
    private final TrainingListener listener;
    private final MetricsFile metrics; // rank 0 only
    private long step;
    private long skipped;
    private double wallBefore; // training seconds of the earlier sessions

    private DistributedTrainer(Builder b, WorkerState state, Map<String, String> identity) throws IOException {
        this.run = b.run;
        this.out = b.out;
        this.groups = b.groups;
        this.state = state;
        this.listener = b.listener;
        this.update = new ShardedUpdate(run, groups, state);
        this.checkpoints = new TrainerCheckpoints(run, out, groups, state, identity);
        Files.createDirectories(out);
        if (b.resume && ShardCheckpoint.exists(out)) {
            TrainerCheckpoints.Position at = checkpoints.restoreEverywhere(listener);
            step = at.step();
            skipped = at.skipped();
            wallBefore = at.wallSeconds();
        }
        metrics = groups.world().rank() == 0 ? new MetricsFile(out.resolve("metrics.jsonl"), step) : null;
    }

    /** A builder: run, output directory, groups and data are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The exchange between groups this worker runs. */
    public ReplicaExchange exchange() {
        return state.exchange();
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
     *
     * @throws NonFiniteUpdateException in fp32, at an update whose loss or gradient is not finite
     */
    public Result run(long untilStep) throws IOException {
        if (untilStep < step || untilStep > run.steps()) {
            throw new IllegalArgumentException("cannot run until step " + untilStep + ": at step " + step + " of "
                    + run.steps());
        }
        boolean skips = state.precision().skipsNonFiniteUpdates();
        long start = System.nanoTime();
        List<StepRecord> records = new ArrayList<>();
        long lastCheckpoint = -1;
        while (step < untilStep) {
            ShardedUpdate.Outcome o = update.apply(step);
            StepRecord r = o.record();
            boolean stops = r.skipped() && !skips; // an fp32 update that was not finite: step stays
            if (!stops) {
                step = r.step();
                skipped += r.skipped() ? 1 : 0;
            }
            records.add(r);
            double session = (System.nanoTime() - start) / 1e9;
            if (metrics != null) {
                StepMetrics m = metrics(r, records.size() / session, wallBefore + session);
                metrics.append(m, r.sentBytes(), r.denseBytes());
                if (!stops) {
                    listener.onStep(m);
                }
            }
            if (stops) {
                // every worker saw the same all-reduced verdict: all checkpoint the sound updates, then stop
                if (step > 0 && lastCheckpoint != step) {
                    checkpoint(wallBefore + session);
                }
                throw new NonFiniteUpdateException(r.step(), run.steps(), r.loss(), r.gradNorm(), o.nonFinite(),
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
            FinalModel.save(out, groups, state);
        }
        wallBefore += session;
        return new Result(step, run.steps(), records, session, state.exchange().sentBytes(),
                state.exchange().denseBytes());
    }

    private StepMetrics metrics(StepRecord r, double stepsPerSecond, double wallSeconds) {
        Map<String, Float> losses = new LinkedHashMap<>();
        losses.put(Trainer.LOSS, r.loss());
        losses.put("text", r.text());
        losses.put("image", r.image());
        return new StepMetrics(r.step(), run.steps(), losses, r.lr(), Map.of(), r.gradNorm(), r.skipped(),
                stepsPerSecond, wallSeconds);
    }

    private void checkpoint(double wallSeconds) throws IOException {
        Path dir = checkpoints.save(new TrainerCheckpoints.Position(step, skipped, wallSeconds));
        if (metrics != null) {
            listener.onCheckpoint(step, dir);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (metrics != null) {
                metrics.close();
            }
        } finally {
            state.close();
        }
    }

    /**
     * Wires one worker: builds its model from the run's seed (identical on every worker), shards it in
     * its shard group, builds the exchange on its shards, binds the precision policy, and resumes from
     * the run's last checkpoint when asked and one exists.
     */
    public static final class Builder {

        private DistributedRun run;
        private Path out;
        private Groups groups;
        private CodeCache codes;
        private BpeTokenizer tokenizer;
        private Function<List<ShardView>, ReplicaExchange> exchangeFor; // null: the run's (PriorWorker.exchange)
        private PrecisionPolicy precision;                             // null: the run's (PrecisionPolicy.named)
        private boolean resume;
        private TrainingListener listener = TrainingListener.NONE;

        private Builder() {}

        /** The run every worker agrees on (required). */
        public Builder setRun(DistributedRun run) {
            this.run = run;
            return this;
        }

        /** The run directory: checkpoints, {@code metrics.jsonl}, the final model (required). */
        public Builder setOutput(Path out) {
            this.out = out;
            return this;
        }

        /** This worker's world, shard and replica groups, sized as the run says (required). */
        public Builder setGroups(Groups groups) {
            this.groups = groups;
            return this;
        }

        /** The run's encoded images and tokenizer (required). */
        public Builder setData(CodeCache codes, BpeTokenizer tokenizer) {
            this.codes = codes;
            this.tokenizer = tokenizer;
            return this;
        }

        /** The exchange between groups; default: the run's ({@link PriorWorker#exchange}). */
        public Builder optExchange(ReplicaExchange exchange) {
            return optExchange(shards -> exchange);
        }

        /**
         * The exchange between groups, built from this worker's shard views once the model is sharded (an
         * exchange with per-shard state, such as {@link ShardPowerSgd}, needs their names and layout).
         */
        public Builder optExchange(Function<List<ShardView>, ReplicaExchange> exchangeFor) {
            this.exchangeFor = exchangeFor;
            return this;
        }

        /** The precision policy, one instance per worker; default: the run's ({@link PrecisionPolicy#named}). */
        public Builder optPrecision(PrecisionPolicy precision) {
            this.precision = precision;
            return this;
        }

        /** Continue from the run's last checkpoint when there is one (default: start over). */
        public Builder optResume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /** Told about steps, checkpoints and notes, on world rank 0 (default: {@link TrainingListener#NONE}). */
        public Builder optListener(TrainingListener listener) {
            if (listener == null) {
                throw new IllegalArgumentException("listener is null; TrainingListener.NONE listens to nothing");
            }
            this.listener = listener;
            return this;
        }

        /**
         * Builds the worker; collective over the world when resuming.
         *
         * @throws IllegalArgumentException naming what is missing or does not match the run
         * @throws CheckpointException naming the file when the checkpoint is corrupt or made by another run
         */
        public DistributedTrainer build() throws IOException {
            if (run == null || out == null || groups == null || codes == null || tokenizer == null) {
                throw new IllegalArgumentException("a distributed trainer needs setRun, setOutput, setGroups and"
                        + " setData (missing: " + missing() + ")");
            }
            if (groups.world().worldSize() != run.workers() || groups.shard().worldSize() != run.groupSize()) {
                throw new IllegalArgumentException("collectives of " + groups.world().worldSize() + " workers in groups"
                        + " of " + groups.shard().worldSize() + " do not match the run's " + run.workers()
                        + " workers in " + run.groups() + " groups");
            }
            PrecisionPolicy policy = precision != null ? precision : PrecisionPolicy.named(run.precision());
            if (!policy.name().equals(run.precision())) {
                throw new IllegalArgumentException("precision policy " + policy.name() + " for a run in "
                        + run.precision());
            }
            NDManager manager = NDManager.newBaseManager();
            WorkerState state = null;
            try {
                OptimizerSettings o = run.optimizer();
                PriorTask task = new PriorTask(manager, run.config(), codes, tokenizer, run.workerBatch(), run.seed(),
                        run.schedule(), o, run.bpeDropout());
                ShardedParameters sharded = new ShardedParameters(groups.shard(), manager,
                        task.model().parameters(), o.beta1(), o.beta2(), o.eps(), o.weightDecay());
                List<ShardView> views = sharded.views();
                ReplicaExchange exchange = exchangeFor != null ? exchangeFor.apply(views)
                        : PriorWorker.exchange(run, groups, views);
                policy.bind(task.model(), groups);
                state = new WorkerState(manager, task, sharded, views, new ShardedEma(views, o.emaDecay()), exchange,
                        policy);
                Map<String, String> identity = new LinkedHashMap<>(task.identity());
                identity.put("batch", Integer.toString(run.globalBatch())); // the global batch, not the slice
                identity.put("exchange", exchange.name());
                identity.put("precision", policy.name());
                return new DistributedTrainer(this, state, identity);
            } catch (IOException | RuntimeException e) {
                if (state != null) {
                    state.close();
                } else {
                    manager.close();
                }
                throw e;
            }
        }

        private String missing() {
            List<String> names = new ArrayList<>();
            if (run == null) {
                names.add("run");
            }
            if (out == null) {
                names.add("output");
            }
            if (groups == null) {
                names.add("groups");
            }
            if (codes == null || tokenizer == null) {
                names.add("data");
            }
            return String.join(", ", names);
        }
    }
}
