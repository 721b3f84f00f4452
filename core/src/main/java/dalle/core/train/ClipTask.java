package dalle.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.data.Example;
import dalle.core.image.RgbImage;
import dalle.core.io.Checkpoints;
import dalle.core.nn.Module;
import dalle.core.tokenizer.BpeTokenizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The reranker: the contrastive scorer learns to pick each caption's image among the batch's
 * ({@link ContrastiveScorer#loss}, symmetric InfoNCE; larger batches make a harder task). Captions
 * are the tokenizer's ids cut to the text length and padded (no BPE dropout). CLIP's AdamW
 * ({@link OptimizerSettings#clipPaper()}) under a warm-up + cosine learning rate to zero
 * ({@link WarmupCosine}). The logged {@code scale} is the learned logit scale.
 */
public final class ClipTask extends ModelTask<ContrastiveScorer> {

    /** CLIP's peak learning rate for its smaller models. */
    public static final float CLIP_LR = 5e-4f;

    private final ExampleBatches data;
    private final BpeTokenizer tokenizer;
    private final WarmupCosine schedule;

    /**
     * @param config sizes; its text vocabulary and pad id must be the tokenizer's
     * @param data batches of captioned images at {@code config.imageSize()}
     */
    public ClipTask(NDManager manager, ClipConfig config, ExampleBatches data, BpeTokenizer tokenizer, int batchSize,
                    long seed, WarmupCosine schedule, OptimizerSettings optimizer) {
        super(ContrastiveScorer.KIND, new ContrastiveScorer(manager, checked(config, tokenizer, batchSize), seed),
                batchSize, optimizer);
        this.data = data;
        this.tokenizer = tokenizer;
        this.schedule = schedule;
    }

    /** {@code config}, once it is known to fit the tokenizer and a contrastive batch; before any weight is made. */
    private static ClipConfig checked(ClipConfig config, BpeTokenizer tokenizer, int batchSize) {
        if (batchSize < 2) {
            throw new IllegalArgumentException("a contrastive batch needs at least 2 pairs, got " + batchSize);
        }
        if (config.textVocab() != tokenizer.vocabSize() || config.padTokenId() != tokenizer.padId()) {
            throw new IllegalArgumentException("reranker text vocabulary " + config.textVocab() + " / pad "
                    + config.padTokenId() + " differs from the tokenizer's " + tokenizer.vocabSize() + " / "
                    + tokenizer.padId());
        }
        return config;
    }

    /** CLIP's recipe for a fixed budget: peak lr 5e-4 after a 5% warm-up, cosine to 0, {@link OptimizerSettings#clipPaper()}. */
    public static ClipTask paper(NDManager manager, ClipConfig config, ExampleBatches data, BpeTokenizer tokenizer,
                                 int batchSize, long seed) {
        return new ClipTask(manager, config, data, tokenizer, batchSize, seed,
                new WarmupCosine(CLIP_LR, WarmupCosine.DEFAULT_WARMUP, 0f), OptimizerSettings.clipPaper());
    }

    /** {@code sizes} with the tokenizer's vocabulary and pad id. */
    public static ClipConfig fit(ClipConfig sizes, BpeTokenizer tokenizer) {
        return new ClipConfig(tokenizer.vocabSize(), sizes.textLength(), tokenizer.padId(), sizes.imageSize(),
                sizes.textWidth(), sizes.textLayers(), sizes.textHeads(), sizes.imageWidth(), sizes.embedDim(),
                sizes.gridPooling());
    }

    @Override
    public ClipConfig config() {
        return model.config();
    }

    @Override
    public Module newModel(NDManager manager) {
        return new ContrastiveScorer(manager, model.config(), 0L);
    }

    @Override
    public float learningRate(long step, long totalSteps) {
        return schedule.at(step, totalSteps);
    }

    @Override
    public StepLoss loss(long step, long totalSteps, NDManager scope, SplittableRandom rng) {
        List<Example> batch = data.batch(step, batchSize);
        int length = model.config().textLength();
        int[] ids = new int[batchSize * length];
        for (int b = 0; b < batchSize; b++) {
            System.arraycopy(tokenizer.encodePadded(batch.get(b).caption(), length), 0, ids, b * length, length);
        }
        NDArray text = scope.create(ids, new Shape(batchSize, length));                        // (B, L)
        NDArray images = RgbImage.stack(scope, batch.stream().map(Example::image).toList());    // (B, 3, S, S)
        NDArray loss = model.loss(text, images);
        return new StepLoss(loss, Map.of(), Map.of("scale", model.logitScale()));
    }

    @Override
    public Map<String, String> identity() {
        Map<String, String> id = new LinkedHashMap<>();
        id.put("config", Checkpoints.GSON.toJson(model.config()).replaceAll("\\s+", ""));
        id.put("batch", Integer.toString(batchSize));
        id.put("data", data.describe());
        id.put("tokenizer", TokenizerFiles.fingerprint(tokenizer));
        return id;
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("optimizer", optimizer.toString());
        settings.put("schedule", schedule.toString());
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
