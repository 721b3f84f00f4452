package dalle.training.cluster.powersgd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.nn.AdamW;
import dalle.core.nn.Gradients;
import dalle.core.nn.Parameter;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * Data-parallel training of a {@link DallePrior} with W simulated workers in one process, to compare
 * gradient exchanges on equal terms. One update:
 * <pre>
 *   for each worker w (one after the other, same weights):
 *       loss_w = prior.loss(micro-batch w of this step); backward; g_w = gradients as float[]; zero
 *   each worker's exchange averages {g_w} through an in-memory all-reduce (one thread per worker)
 *   every worker now holds the same averaged gradient: write it back, AdamW step (skip if not finite)
 * </pre>
 * Since the workers' replicas would hold identical weights and receive identical averaged gradients,
 * one model stands for all of them. Data: {@link SyntheticStreams}, fresh examples at every update
 * (worker w of step s takes the micro-batch starting at example (s·W + w)·B); the final loss is
 * measured on held-out examples. Optimiser: the paper's AdamW (0.9, 0.96, 1e-8, wd
 * 4.5e-2), warm-up then cosine ({@link WarmupCosine}, 10% warm-up, down to a tenth).
 */
public final class SimulatedDataParallel {

    /**
     * @param config     prior sizes
     * @param workers    W simulated data-parallel workers
     * @param microBatch examples per worker per update
     * @param steps      updates
     * @param peakLr     peak learning rate
     * @param evalExamples held-out examples the final loss is measured on
     * @param seed       model weights and data
     */
    public record Settings(PriorConfig config, int workers, int microBatch, int steps, float peakLr, int evalExamples,
                           long seed) {
        public Settings {
            if (workers < 1 || microBatch < 1 || steps < 1 || evalExamples < 1) {
                throw new IllegalArgumentException("workers " + workers + ", micro-batch " + microBatch + ", steps "
                        + steps + " and held-out examples " + evalExamples + " must all be at least 1");
            }
            if (!(peakLr > 0)) {
                throw new IllegalArgumentException("peak learning rate " + peakLr + " must be positive");
            }
        }
    }

    /**
     * One training run's outcome.
     *
     * @param label      what was compared
     * @param finalLoss  the prior's loss on the held-out examples after the last update (nats/token)
     * @param losses     mean training loss of the workers' micro-batches, per update
     * @param sentBytes  gradient bytes one worker all-reduced over the run
     * @param denseBytes bytes an uncompressed exchange would have all-reduced
     * @param skipped    updates skipped for non-finite gradients
     * @param seconds    wall time of the run
     */
    public record Run(String label, float finalLoss, float[] losses, long sentBytes, long denseBytes, int skipped,
                      double seconds) {

        /** How many times fewer bytes than the uncompressed exchange. */
        public double compression() {
            return (double) denseBytes / sentBytes;
        }
    }

    private SimulatedDataParallel() {}

    /**
     * Trains a fresh prior (weights from {@code settings.seed()}) with one averaging per worker made by
     * {@code averagingForWorker} from the model's gradient specs.
     */
    public static Run train(Settings settings, String label,
                            Function<List<TensorSpec>, GradientAveraging> averagingForWorker) {
        long start = System.nanoTime();
        SyntheticStreams data = new SyntheticStreams(settings.config(), settings.seed());
        WarmupCosine schedule = new WarmupCosine(settings.peakLr(), 0.1, 0.1f);
        int w = settings.workers();
        try (NDManager manager = NDManager.newBaseManager();
             LocalMeanReducers group = new LocalMeanReducers(w)) {
            DallePrior prior = new DallePrior(manager, settings.config(), settings.seed());
            prior.setRequiresGradient(true);
            Collection<Parameter> params = prior.parameters().values();
            List<TensorSpec> specs = TensorSpec.of(prior.parameters());
            List<GradientAveraging> exchanges = new ArrayList<>();
            for (int r = 0; r < w; r++) {
                exchanges.add(averagingForWorker.apply(specs));
            }
            AdamW opt = new AdamW(manager, prior.parameters(), 0.9f, 0.96f, 1e-8f, 4.5e-2f);
            float[] losses = new float[settings.steps()];
            long sent = 0;
            long dense = 0;
            int skipped = 0;
            for (int step = 0; step < settings.steps(); step++) {
                List<List<float[]>> grads = new ArrayList<>();
                double lossSum = 0;
                for (int r = 0; r < w; r++) {
                    long first = ((long) step * w + r) * settings.microBatch();
                    try (NDManager scope = manager.newSubManager();
                         GradientCollector gc = manager.getEngine().newGradientCollector()) {
                        NDArray[] batch = data.batch(first, settings.microBatch(), scope);
                        NDArray loss = prior.loss(batch[0], batch[1]).total();
                        gc.backward(loss);
                        lossSum += loss.getFloat();
                    }
                    grads.add(GradientArrays.read(params));
                    Gradients.zero(params);
                }
                losses[step] = (float) (lossSum / w);
                List<ExchangeStats> stats = group.exchange(exchanges, grads);
                sent += stats.get(0).sentBytes();
                dense += stats.get(0).denseBytes();
                if (stats.get(0).finite()) {
                    GradientArrays.write(params, grads.get(0));
                    opt.step(schedule.at(step, settings.steps()));
                } else {
                    opt.zeroGradients();
                    skipped++;
                }
            }
            float finalLoss = heldOutLoss(prior, data, settings.evalExamples(), manager);
            return new Run(label, finalLoss, losses, sent, dense, skipped, (System.nanoTime() - start) / 1e9);
        }
    }

    /** Mean loss over the held-out examples −n..−1, in batches of up to 16, without gradients. */
    public static float heldOutLoss(DallePrior prior, SyntheticStreams data, int n, NDManager manager) {
        double sum = 0;
        for (int first = 0; first < n; first += 16) {
            int count = Math.min(16, n - first);
            try (NDManager scope = manager.newSubManager()) {
                NDArray[] batch = data.batch(first - n, count, scope);
                sum += prior.loss(batch[0], batch[1]).total().getFloat() * count;
            }
        }
        return (float) (sum / n);
    }
}
