package dalle.core.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.dvae.WeightEma;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import dalle.core.nn.Gradients;
import dalle.core.nn.AdamW;
import dalle.core.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The training loop shared by the three models. One update:
 * <pre>
 *   rng   = Seeds.forStep(seed, step)                    every random draw of the update comes from here
 *   loss  = task.loss(step, ...)                          batch + forward, on a per-step sub-manager
 *   backward(loss.total)                                  gradients land on the parameters
 *   norm  = clip(gradients, optimizer.gradClip)           the global norm, logged
 *   if loss and norm are finite: AdamW.step(lr(step)); ema.update()
 *   else: log the update, then stop with a NonFiniteUpdateException naming it and the parameters
 * </pre>
 * This loop is fp32: a NaN or infinity here is a defect, never an overflow, so it is not skipped (the
 * paper's skip rule lives with the mixed-precision policies of the training cluster).
 * Every {@code checkpointEvery} updates (and at the end of each {@link #run}) a checkpoint is written
 * ({@link CheckpointStore}); when the budget is spent the final model, the averaged weights if the
 * task keeps an EMA, goes to {@code out/model/}.
 *
 * <p>Resuming is exact: the weights, AdamW's moments and step count and the EMA are restored bit for
 * bit (F32), the data and the noise are functions of (seed, step), so a resumed run logs the same
 * losses as one that was never interrupted, provided libtorch runs on the same number of threads
 * ({@code ai.djl.pytorch.num_threads}): reductions split over another thread count round differently
 * in the last bits. A checkpoint made by another run (config, batch size, data, tokenizer, seed) is
 * refused; changed optimiser or schedule settings, or a new budget, are accepted and reported.
 *
 * <p>Memory: each update's arrays live on a sub-manager closed after the update; the optimizer's
 * moments and the EMA on one sub-manager for the whole run; nothing grows with the step count.
 */
public final class Trainer implements AutoCloseable {

    /** The name of the back-propagated loss in logs. */
    public static final String LOSS = "loss";
    /** The final model's directory under the run's directory. */
    public static final String MODEL_DIR = "model";

    private final NDManager manager;
    private final NDManager state;
    private final TrainingTask task;
    private final TrainerOptions options;
    private final TrainingListener listener;
    private final Module model;
    private final OptimizerSettings settings;
    private final AdamW optimizer;
    private final WeightEma ema;       // null when the task keeps no average
    private final Module emaModel;     // holds the averages for saving; null without an EMA
    private final Map<String, String> identity;
    private final MetricsLog metrics;
    private final List<String> lossNames = new ArrayList<>();
    private long step;
    private long skipped;              // updates skipped by an older version of this loop, read from a checkpoint
    private List<String> nonFiniteParameters = List.of();
    private long lastCheckpoint = -1;
    private double wallBefore;
    private Map<String, Float> lastLosses = Map.of();

    /**
     * Starts a run in {@code options.out()}, or resumes the one there.
     *
     * @param manager the manager holding the task's model; resumed weights are put there too
     * @throws IllegalArgumentException when the directory already holds a run and resume was not asked for
     * @throws CheckpointException naming the file when the checkpoint to resume is missing, corrupt, or
     *     was made by a different run (another config, batch size, data, seed...)
     */
    public Trainer(NDManager manager, TrainingTask task, TrainerOptions options, TrainingListener listener)
            throws IOException {
        this.manager = manager;
        this.task = task;
        this.options = options;
        this.listener = listener;
        this.model = task.model();
        this.settings = task.optimizer();
        Path out = options.out();
        Files.createDirectories(out);
        identity = new LinkedHashMap<>();
        identity.put("kind", task.kind());
        identity.put("seed", Long.toString(options.seed()));
        identity.putAll(task.identity());
        if (!options.resume() && CheckpointStore.exists(out)) {
            throw new IllegalArgumentException(out + " already holds a training run; resume it, or train into"
                    + " another directory");
        }
        state = manager.newSubManager();
        try {
            CheckpointStore.State resumed = options.resume() ? readCheckpoint() : null;
            ema = settings.emaDecay() > 0 ? new WeightEma(state, model, settings.emaDecay()) : null;
            emaModel = ema != null ? task.newModel(state) : null;
            if (resumed != null) {
                Checkpoints.loadWeights(resumable().resolve(CheckpointStore.MODEL), model, manager);
            }
            model.setRequiresGradient(true);
            optimizer = new AdamW(state, model.parameters(), settings.beta1(), settings.beta2(), settings.eps(),
                    settings.weightDecay());
            if (resumed != null) {
                restoreOptimizer(resumable().resolve(CheckpointStore.OPTIMIZER), resumed.optimizerSteps());
                step = resumed.step();
                skipped = resumed.skippedUpdates();
                wallBefore = resumed.wallSeconds();
                lastCheckpoint = step;
            }
            metrics = new MetricsLog(options.metricsFile(), resumed != null ? step : -1);
        } catch (IOException | RuntimeException e) {
            state.close();
            throw e;
        }
        if (ema != null && options.totalSteps() * (1.0 - settings.emaDecay()) < 5) {
            double initialShare = Math.exp(-options.totalSteps() * (1.0 - settings.emaDecay()));
            listener.onNote(String.format("EMA decay %s over %d steps: the averaged weights saved as the final model"
                    + " still hold %.0f%% of the initial weights; train for at least %d steps or lower the EMA decay",
                    settings.emaDecay(), options.totalSteps(), 100 * initialShare,
                    (long) Math.ceil(5 / (1.0 - settings.emaDecay()))));
        }
    }

    /** True when {@code out} already holds a run's checkpoint (starting over it needs resume, or another directory). */
    public static boolean holdsRun(Path out) {
        return CheckpointStore.exists(out);
    }

    /** Updates done so far. */
    public long step() {
        return step;
    }

    /** Runs to the end of the budget. */
    public TrainingResult run() throws IOException {
        return run(options.totalSteps());
    }

    /**
     * Runs until {@code untilStep} updates are done (at most the budget), then writes a checkpoint, and
     * the final model if the budget is spent.
     */
    public TrainingResult run(long untilStep) throws IOException {
        if (untilStep < step || untilStep > options.totalSteps()) {
            throw new IllegalArgumentException("cannot run until step " + untilStep + ": at step " + step + " of "
                    + options.totalSteps());
        }
        long sessionStart = System.nanoTime();
        long sessionSteps = 0;
        while (step < untilStep) {
            StepMetrics m = update(sessionStart, ++sessionSteps);
            metrics.append(m);
            if (m.skipped()) {
                if (step > 0 && lastCheckpoint != step) {
                    checkpoint(wall(sessionStart)); // the updates before this one are sound: keep them
                }
                throw nonFinite(m);
            }
            listener.onStep(m);
            if (step % options.checkpointEvery() == 0 || step == options.totalSteps()) {
                checkpoint(wall(sessionStart));
            }
        }
        if (lastCheckpoint != step) {
            checkpoint(wall(sessionStart));
        }
        if (step == options.totalSteps()) {
            saveFinalModel();
        }
        double wall = wall(sessionStart);
        wallBefore = wall;
        return new TrainingResult(step, options.totalSteps(), skipped, wall, lastLosses);
    }

    private StepMetrics update(long sessionStart, long sessionSteps) {
        long s = step;
        long total = options.totalSteps();
        SplittableRandom rng = Seeds.forStep(options.seed(), s);
        float lr = task.learningRate(s, total);
        Map<String, Float> losses = new LinkedHashMap<>();
        Map<String, Float> schedule;
        try (NDManager scope = manager.newSubManager();
             GradientCollector gc = manager.getEngine().newGradientCollector()) {
            StepLoss loss = task.loss(s, total, scope, rng);
            gc.backward(loss.total());
            losses.put(LOSS, loss.total().getFloat());
            loss.parts().forEach((name, value) -> losses.put(name, value.getFloat()));
            schedule = loss.schedule();
        }
        double norm = GradientClipping.clip(manager, model.parameters().values(), settings.gradClip());
        boolean finite = Float.isFinite(losses.get(LOSS)) && Double.isFinite(norm);
        if (finite) {
            optimizer.step(lr);
            if (ema != null) {
                ema.update();
            }
            step = s + 1;
        } else {
            // named before the gradients are cleared; the step count stays, so a resume retries this update
            nonFiniteParameters = GradientClipping.nonFinite(manager, model.parameters());
            Gradients.zero(model.parameters().values());
        }
        if (lossNames.isEmpty()) {
            lossNames.addAll(losses.keySet());
        }
        lastLosses = losses;
        double session = (System.nanoTime() - sessionStart) / 1e9;
        return new StepMetrics(s + 1, total, losses, lr, schedule, norm, !finite, sessionSteps / session,
                wallBefore + session);
    }

    private NonFiniteUpdateException nonFinite(StepMetrics m) {
        String hint = lastCheckpoint > 0
                ? "The last checkpoint is at update " + lastCheckpoint + " in " + CheckpointStore.resumable(options.out())
                        + "; resume with a lower learning rate or other data to continue."
                : "No checkpoint was written yet.";
        return new NonFiniteUpdateException(m.step(), m.totalSteps(), m.loss(), m.gradNorm(), nonFiniteParameters,
                hint);
    }

    private double wall(long sessionStart) {
        return wallBefore + (System.nanoTime() - sessionStart) / 1e9;
    }

    private void checkpoint(double wallSeconds) throws IOException {
        Path out = options.out();
        Path tmp = CheckpointStore.begin(out);
        Checkpoints.save(tmp.resolve(CheckpointStore.MODEL), task.kind(), task.config(), model,
                SafeTensors.Storage.F32);
        if (ema != null) {
            ema.copyInto(emaModel);
            Checkpoints.save(tmp.resolve(CheckpointStore.EMA), task.kind(), task.config(), emaModel,
                    SafeTensors.Storage.F32);
        }
        SafeTensors.write(tmp.resolve(CheckpointStore.OPTIMIZER), optimizer.state(), Map.of("kind", "adamw"),
                SafeTensors.Storage.F32);
        CheckpointStore.State st = new CheckpointStore.State(CheckpointStore.FORMAT, task.kind(), step,
                options.totalSteps(), options.seed(), optimizer.steps(), skipped, wallSeconds, identity,
                task.settings(), Map.of());
        Path dir = CheckpointStore.commit(out, tmp, st);
        lastCheckpoint = step;
        LossChart.write(options.chartFile(), task.kind(), metrics.rows(), lossNames);
        listener.onCheckpoint(step, dir);
    }

    private void saveFinalModel() throws IOException {
        Module weights = model;
        if (ema != null) {
            ema.copyInto(emaModel);
            weights = emaModel;
        }
        Module chosen = weights;
        CheckpointStore.replaceDirectory(options.modelDir(),
                dir -> Checkpoints.save(dir, task.kind(), task.config(), chosen, SafeTensors.Storage.F32));
    }

    // ---- resuming ------------------------------------------------------------------------------

    private Path resumable() {
        return CheckpointStore.resumable(options.out());
    }

    /**
     * Verifies the checkpoint and its identity and, with an EMA, puts the averaged weights into the
     * model so that the {@link WeightEma} built next starts from them (the live weights are loaded after).
     */
    private CheckpointStore.State readCheckpoint() {
        Path dir = resumable();
        CheckpointStore.State s = CheckpointStore.read(dir);
        Path stateFile = dir.resolve(CheckpointStore.STATE);
        Set<String> keys = new LinkedHashSet<>(identity.keySet());
        keys.addAll(s.identity().keySet());
        for (String key : keys) {
            String now = identity.get(key);
            String then = s.identity().get(key);
            if (now == null || !now.equals(then)) {
                throw new CheckpointException(stateFile, "the checkpoint was made by a different run: its " + key
                        + " is " + then + ", this run's is " + now);
            }
        }
        if (s.step() > options.totalSteps()) {
            throw new CheckpointException(stateFile, "the checkpoint is at step " + s.step() + ", past this run's budget"
                    + " of " + options.totalSteps() + " steps");
        }
        List<String> changes = new ArrayList<>();
        if (s.totalSteps() != options.totalSteps()) {
            changes.add("budget " + s.totalSteps() + " -> " + options.totalSteps() + " steps (the schedules rescale)");
        }
        Map<String, String> now = task.settings();
        Set<String> names = new LinkedHashSet<>(now.keySet());
        names.addAll(s.settings().keySet());
        for (String name : names) {
            if (!java.util.Objects.equals(now.get(name), s.settings().get(name))) {
                changes.add(name + " " + s.settings().get(name) + " -> " + now.get(name));
            }
        }
        if (settings.emaDecay() > 0) {
            Path emaDir = dir.resolve(CheckpointStore.EMA);
            if (Files.isDirectory(emaDir)) {
                Checkpoints.loadWeights(emaDir, model, manager);
            } else {
                Checkpoints.loadWeights(dir.resolve(CheckpointStore.MODEL), model, manager);
                changes.add("the weight EMA starts from the checkpoint's weights (the checkpoint has none)");
            }
        }
        listener.onNote("resuming from " + dir + " at step " + s.step() + " of " + options.totalSteps()
                + (changes.isEmpty() ? "" : "; changed since the checkpoint, so the run differs from an uninterrupted"
                        + " one: " + String.join("; ", changes)));
        return s;
    }

    private void restoreOptimizer(Path file, long optimizerSteps) {
        try (NDManager tmp = state.newSubManager()) {
            Map<String, ai.djl.ndarray.NDArray> saved = SafeTensors.read(file, tmp).tensors();
            Map<String, ai.djl.ndarray.NDArray> live = optimizer.state();
            List<String> problems = new ArrayList<>();
            live.forEach((name, a) -> {
                var t = saved.get(name);
                if (t == null) {
                    problems.add("missing tensor " + name);
                } else if (!t.getShape().equals(a.getShape())) {
                    problems.add("tensor " + name + " has shape " + t.getShape() + ", expected " + a.getShape());
                }
            });
            TreeSet<String> extra = new TreeSet<>(saved.keySet());
            extra.removeAll(live.keySet());
            extra.forEach(n -> problems.add("unexpected tensor " + n));
            if (!problems.isEmpty()) {
                throw new CheckpointException(file, "optimizer state does not match the model: "
                        + String.join("; ", problems.subList(0, Math.min(5, problems.size()))));
            }
            optimizer.restore(saved, optimizerSteps);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            metrics.close();
        } finally {
            state.close();
        }
    }
}
