package dalle.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.io.Checkpoints;
import dalle.core.nn.Module;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import dalle.core.transformer.PriorLoss;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stage 2: the transformer prior learns the joint stream of caption tokens and dVAE codes
 * ({@link DallePrior#loss}: text/8 + 7·image/8). Captions are BPE-encoded afresh at each update
 * with BPE dropout (the paper's 10%), cut to the text length and filled with the pad id; the codes
 * come from a {@link CodeCache}, visited in a new random order each epoch (a function of the seed
 * and the epoch). The paper's AdamW, gradient clip and EMA ({@link OptimizerSettings#priorPaper()});
 * the learning rate warms up and then decays ({@link WarmupCosine}). Logged parts: {@code text},
 * {@code image} (nats per token).
 */
public final class PriorTask extends ModelTask<DallePrior> {

    /** The paper's BPE dropout. */
    public static final float PAPER_BPE_DROPOUT = 0.1f;
    /** The paper's peak learning rate. */
    public static final float PAPER_LR = 4.5e-4f;

    private final CodeCache codes;
    private final BpeTokenizer tokenizer;
    private final long seed;
    private final WarmupCosine schedule;
    private final float bpeDropout;
    private long shuffledEpoch = -1;
    private int[] order;

    /**
     * @param config sizes; its text vocabulary and pad id must be the tokenizer's, its image vocabulary
     *     and grid the codes'
     * @param seed the model's initial weights and the epochs' orders
     */
    public PriorTask(NDManager manager, PriorConfig config, CodeCache codes, BpeTokenizer tokenizer, int batchSize,
                     long seed, WarmupCosine schedule, OptimizerSettings optimizer, float bpeDropout) {
        super(DallePrior.KIND, new DallePrior(manager, checked(config, codes, tokenizer, bpeDropout), seed),
                batchSize, optimizer);
        this.codes = codes;
        this.tokenizer = tokenizer;
        this.seed = seed;
        this.schedule = schedule;
        this.bpeDropout = bpeDropout;
    }

    /** {@code config}, once it is known to fit the tokenizer and the codes; before any weight is made. */
    private static PriorConfig checked(PriorConfig config, CodeCache codes, BpeTokenizer tokenizer, float bpeDropout) {
        if (config.textVocab() != tokenizer.vocabSize() || config.padTokenId() != tokenizer.padId()) {
            throw new IllegalArgumentException("prior text vocabulary " + config.textVocab() + " / pad "
                    + config.padTokenId() + " differs from the tokenizer's " + tokenizer.vocabSize() + " / "
                    + tokenizer.padId());
        }
        if (config.imageTokens() != codes.tokens() || config.imageVocab() != codes.header().codebookSize()) {
            throw new IllegalArgumentException("prior image tokens (" + config.imageTokens() + " over "
                    + config.imageVocab() + " codes) differ from the code cache's (" + codes.tokens() + " over "
                    + codes.header().codebookSize() + ")");
        }
        if (!(bpeDropout >= 0 && bpeDropout <= 1)) {
            throw new IllegalArgumentException("BPE dropout must be in [0, 1], got " + bpeDropout);
        }
        return config;
    }

    /**
     * The paper's recipe for a fixed budget: peak lr 4.5e-4 after a 5% warm-up, cosine decay to a tenth
     * of it, AdamW (0.9, 0.96, 1e-8, wd 4.5e-2), clip 4, EMA 0.99, BPE dropout 0.1.
     */
    public static PriorTask paper(NDManager manager, PriorConfig config, CodeCache codes, BpeTokenizer tokenizer,
                                  int batchSize, long seed) {
        return new PriorTask(manager, config, codes, tokenizer, batchSize, seed,
                new WarmupCosine(PAPER_LR, WarmupCosine.DEFAULT_WARMUP, 0.1f), OptimizerSettings.priorPaper(),
                PAPER_BPE_DROPOUT);
    }

    /**
     * {@code sizes} with the vocabularies and grid that the tokenizer and the dVAE dictate: text
     * vocabulary and pad id from the tokenizer, image vocabulary and grid from the codes.
     */
    public static PriorConfig fit(PriorConfig sizes, BpeTokenizer tokenizer, int codebookSize, int gridSize) {
        return new PriorConfig(tokenizer.vocabSize(), sizes.textLength(), tokenizer.padId(), codebookSize, gridSize,
                sizes.width(), sizes.heads(), sizes.layers(), sizes.convKernel(), sizes.mlpRatio());
    }

    @Override
    public PriorConfig config() {
        return model.config();
    }

    @Override
    public Module newModel(NDManager manager) {
        return new DallePrior(manager, model.config(), 0L);
    }

    @Override
    public float learningRate(long step, long totalSteps) {
        return schedule.at(step, totalSteps);
    }

    /**
     * One update's batch, as {@link #loss} builds it: text ids (B, Tt) — BPE-encoded with dropout
     * drawn from {@code rng}, cut to the text length, filled with the pad id — and image codes (B, Ti),
     * both int32 on {@code scope}, for the examples at positions {@code [step·B, (step+1)·B)} of the
     * shuffled stream. Calling it draws from {@code rng} exactly as {@link #loss} does, so a caller that
     * runs its own forward pass on these arrays sees the same data as {@code loss} would.
     */
    public Batch batch(long step, NDManager scope, SplittableRandom rng) {
        PriorConfig c = model.config();
        int tt = c.textLength();
        int ti = c.imageTokens();
        int[] text = new int[batchSize * tt];
        int[] image = new int[batchSize * ti];
        long first = Math.multiplyExact(step, (long) batchSize);
        for (int b = 0; b < batchSize; b++) {
            int i = example(first + b);
            int[] ids = tokenizer.encode(codes.caption(i), bpeDropout, rng);
            int n = Math.min(ids.length, tt);
            System.arraycopy(ids, 0, text, b * tt, n);
            java.util.Arrays.fill(text, b * tt + n, (b + 1) * tt, c.padTokenId());
            codes.copyCodes(i, image, b * ti);
        }
        return new Batch(scope.create(text, new Shape(batchSize, tt)), scope.create(image, new Shape(batchSize, ti)));
    }

    /**
     * A prior batch.
     *
     * @param text  caption token ids (B, Tt), int32
     * @param image dVAE codes (B, Ti), int32
     */
    public record Batch(NDArray text, NDArray image) {
    }

    @Override
    public StepLoss loss(long step, long totalSteps, NDManager scope, SplittableRandom rng) {
        Batch batch = batch(step, scope, rng);
        PriorLoss loss = model.loss(batch.text(), batch.image());
        Map<String, NDArray> parts = new LinkedHashMap<>();
        parts.put("text", loss.text());
        parts.put("image", loss.image());
        return new StepLoss(loss.total(), parts, Map.of());
    }

    /** The cache index at position {@code position} of the endless sequence of shuffled epochs. */
    private int example(long position) {
        long epoch = position / codes.size();
        if (epoch != shuffledEpoch) {
            order = shuffle(codes.size(), Seeds.mix(seed, epoch, Seeds.SHUFFLE_STREAM));
            shuffledEpoch = epoch;
        }
        return order[(int) (position % codes.size())];
    }

    private static int[] shuffle(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public Map<String, String> identity() {
        Map<String, String> id = new LinkedHashMap<>();
        id.put("config", Checkpoints.GSON.toJson(model.config()).replaceAll("\\s+", ""));
        id.put("batch", Integer.toString(batchSize));
        id.put("codes", codes.header().data() + ", " + codes.size() + " examples, dVAE " + codes.header().dvae());
        id.put("tokenizer", TokenizerFiles.fingerprint(tokenizer));
        return id;
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("optimizer", optimizer.toString());
        settings.put("schedule", schedule.toString());
        settings.put("bpeDropout", Float.toString(bpeDropout));
        return settings;
    }

    @Override
    public String dataSummary() {
        return "data: code cache of " + codes.size() + " examples from " + codes.header().data();
    }
}
