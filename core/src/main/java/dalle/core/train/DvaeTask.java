package dalle.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.data.Example;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.dvae.DvaeLoss;
import dalle.core.dvae.DvaeSchedules;
import dalle.core.dvae.DvaeRecipe;
import dalle.core.dvae.Reconstruction;
import dalle.core.image.RgbImage;
import dalle.core.io.Checkpoints;
import dalle.core.nn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stage 1: the dVAE maximises the ELB through the Gumbel-softmax relaxation ({@link Dvae#loss}), with
 * τ, β and the learning rate following {@link DvaeSchedules} (each a fixed fraction of the step
 * budget, as in the paper's 3 M-update run) and the paper's AdamW and weight EMA
 * ({@link OptimizerSettings#dvaePaper()}). Logged parts: {@code reconstruction} (nats per
 * pixel-channel, of the chosen {@link Reconstruction} term), {@code kl} (nats per image), {@code usage} (the code-usage gap, nats); schedule values {@code tau}, {@code beta}.
 */
public final class DvaeTask extends ModelTask<Dvae> {

    private final ExampleBatches data;
    private final DvaeRecipe recipe;

    /**
     * @param manager where the model's parameters live (the {@link Trainer}'s manager)
     * @param data batches of images at {@code config.imageSize()} (captions are ignored)
     * @param seed the model's initial weights
     */
    public DvaeTask(NDManager manager, DvaeConfig config, ExampleBatches data, int batchSize, long seed,
                    DvaeSchedules schedules, OptimizerSettings optimizer) {
        this(manager, config, data, batchSize, seed, DvaeRecipe.paper().withSchedules(schedules), optimizer);
    }

    /**
     * @param recipe schedules, reconstruction term, usage penalty and encoder logit gain ({@link DvaeRecipe})
     */
    public DvaeTask(NDManager manager, DvaeConfig config, ExampleBatches data, int batchSize, long seed,
                    DvaeRecipe recipe, OptimizerSettings optimizer) {
        super(Dvae.KIND, new Dvae(manager, config, seed), batchSize, optimizer);
        model.scaleEncoderLogits(recipe.encoderLogitGain());
        this.recipe = recipe;
        this.data = data;
        // the decoder's output biases start at the first batch's pixel statistics (see Dvae#fitOutputBiases)
        try (NDManager first = manager.newSubManager()) {
            model.fitOutputBiases(RgbImage.stack(first, data.batch(0, batchSize).stream().map(Example::image).toList()));
        }
    }

    /** The paper's recipe scaled to short runs: {@link DvaeSchedules#tiny()}, {@link OptimizerSettings#dvaePaper()}. */
    public static DvaeTask paper(NDManager manager, DvaeConfig config, ExampleBatches data, int batchSize, long seed) {
        return new DvaeTask(manager, config, data, batchSize, seed, DvaeSchedules.tiny(), OptimizerSettings.dvaePaper());
    }

    @Override
    public DvaeConfig config() {
        return model.config();
    }

    @Override
    public Module newModel(NDManager manager) {
        return new Dvae(manager, model.config(), 0L);
    }

    @Override
    public float learningRate(long step, long totalSteps) {
        return recipe.schedules().lr(step, totalSteps);
    }

    @Override
    public StepLoss loss(long step, long totalSteps, NDManager scope, SplittableRandom rng) {
        List<Example> batch = data.batch(step, batchSize);
        NDArray images = RgbImage.stack(scope, batch.stream().map(Example::image).toList()); // (B, 3, S, S)
        float tau = recipe.schedules().tau(step, totalSteps);
        float beta = recipe.schedules().beta(step, totalSteps);
        DvaeLoss loss = model.loss(images, tau, beta, recipe.usageWeight(), recipe.reconstruction(), rng);
        Map<String, NDArray> parts = new LinkedHashMap<>();
        parts.put("reconstruction", loss.reconstruction());
        parts.put("kl", loss.kl());
        parts.put("usage", loss.usage());
        Map<String, Float> schedule = new LinkedHashMap<>();
        schedule.put("tau", tau);
        schedule.put("beta", beta);
        return new StepLoss(loss.total(), parts, schedule);
    }

    @Override
    public Map<String, String> identity() {
        Map<String, String> id = new LinkedHashMap<>();
        id.put("config", Checkpoints.GSON.toJson(model.config()).replaceAll("\\s+", ""));
        id.put("batch", Integer.toString(batchSize));
        id.put("data", data.describe());
        return id;
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("optimizer", optimizer.toString());
        settings.put("schedules", recipe.schedules().toString());
        settings.put("usageWeight", Float.toString(recipe.usageWeight()));
        settings.put("reconstruction", recipe.reconstruction().label());
        settings.put("recipe", recipe.name());
        settings.put("encoderLogitGain", Float.toString(recipe.encoderLogitGain()));
        return settings;
    }

    @Override
    public String dataSummary() {
        return data.summary();
    }

    @Override
    public void close() {
        data.close();
    }
}
