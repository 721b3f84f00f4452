package dalle.core.transformer;

import dalle.core.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.core.io.Checkpoints;
import dalle.core.io.SafeTensors;
import dalle.core.nn.Embedding;
import dalle.core.nn.LayerNorm;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The stage-2 prior: a decoder-only transformer over one stream of Tt text slots followed by
 * Ti = G² image tokens (PAPER.md, "Stage 2").
 *
 * <p>Shapes: B batch, Tt text slots, Ti image tokens, N = Tt + Ti − 1 input positions, C width,
 * V = textVocab + Tt + imageVocab joint vocabulary.
 * <pre>
 *   text (B, Tt) int, image (B, Ti) int
 *   -> input = text ++ image[0..Ti−2]                         (B, N)
 *   -> embeddings                                              (B, N, C)
 *        text slot p: token + position, or the learned padding embedding of slot p if it holds the pad id
 *        image token k: token + row(k / G) + column(k % G)
 *   -> L blocks, block i (1-based) masked by AttentionMask.forLayer(i, L)
 *   -> final layer norm, unembedding                           (B, N, V)
 * </pre>
 * Logits at input position p predict stream token p + 1: positions 0..Tt−2 predict text slots
 * 1..Tt−1 over the text part [0, textVocab + Tt) of V (a pad in slot p is target textVocab + p);
 * positions Tt−1..N−1 predict image tokens 0..Ti−1 over the image part [textVocab + Tt, V).
 *
 * <p>Decoding state lives in a {@link KvCache}, never in this object, so one model serves any number
 * of concurrent decoding runs. Checkpoints are directories of kind {@value #KIND}.
 */
public final class DallePrior extends Module {

    /** Checkpoint kind written to and required in {@code config.json}. */
    public static final String KIND = "prior";

    private final NDManager manager;
    private final PriorConfig config;
    private final AttentionMask masks;
    private final Embedding textEmbedding;
    private final Embedding textPosition;
    private final Embedding textPadding;
    private final Embedding imageEmbedding;
    private final Embedding imageRow;
    private final Embedding imageColumn;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm finalLn;
    private final Linear unembedding;

    /** A freshly initialised prior whose parameters live on {@code manager}, drawn from {@code seed}. */
    public DallePrior(NDManager manager, PriorConfig config, long seed) {
        this.manager = manager;
        this.config = config;
        this.masks = new AttentionMask(manager, config);
        SplittableRandom rng = new SplittableRandom(seed);
        int c = config.width();
        textEmbedding = child("text_embedding", new Embedding(manager, rng, config.textVocab(), c));
        textPosition = child("text_position", new Embedding(manager, rng, config.textLength(), c));
        textPadding = child("text_padding", new Embedding(manager, rng, config.textLength(), c));
        imageEmbedding = child("image_embedding", new Embedding(manager, rng, config.imageVocab(), c));
        imageRow = child("image_row", new Embedding(manager, rng, config.gridSize(), c));
        imageColumn = child("image_column", new Embedding(manager, rng, config.gridSize(), c));
        float outStd = (float) (0.02 / Math.sqrt(2.0 * config.layers()));
        BlockList list = child("blocks", new BlockList());
        for (int i = 0; i < config.layers(); i++) {
            AttentionMask.Type type = AttentionMask.forLayer(i + 1, config.layers());
            blocks.add(list.add(i, new TransformerBlock(manager, rng, config, type, outStd)));
        }
        finalLn = child("final_ln", new LayerNorm(manager, c));
        unembedding = child("unembedding", new Linear(manager, rng, c, config.vocabSize(), false,
                Parameter.Kind.UNEMBEDDING, 0.02f));
    }

    /**
     * Loads a prior saved by {@link #save}; its parameters live on a sub-manager of {@code manager}.
     *
     * @throws dalle.core.io.CheckpointException naming the file when the config or weights do not fit
     */
    public static DallePrior load(Path dir, NDManager manager) {
        return Checkpoints.load(dir, KIND, PriorConfig.class, manager, (m, c) -> new DallePrior(m, c, 0L));
    }

    /** Writes {@code config.json} and {@code model.safetensors} into {@code dir}. */
    public void save(Path dir, SafeTensors.Storage storage) throws IOException {
        Checkpoints.save(dir, KIND, config, this, storage);
    }

    public PriorConfig config() {
        return config;
    }

    /** The manager holding the parameters (callers make their sub-managers under it). */
    public NDManager manager() {
        return manager;
    }

    /** The blocks in order; block i (0-based) uses mask {@code AttentionMask.forLayer(i + 1, L)}. */
    public List<TransformerBlock> blocks() {
        return List.copyOf(blocks);
    }

    public AttentionMask masks() {
        return masks;
    }

    // ---- training and scoring -------------------------------------------------------------------

    /** Joint logits of the whole stream: text (B, Tt), image (B, Ti) int -> (B, N, V), unmasked. */
    public NDArray logits(NDArray text, NDArray image) {
        NDArray h = finalLn.forward(runBlocks(embedStream(text, image), 0, null));
        return unembedding.forward(h);
    }

    /** The loss of {@code text} (B, Tt) and {@code image} (B, Ti) int; see {@link PriorLoss}. */
    public PriorLoss loss(NDArray text, NDArray image) {
        return lossFromHidden(runBlocks(embedStream(text, image), 0, null), text, image);
    }

    /**
     * Input embeddings of the stream, text (B, Tt), image (B, Ti) int -> (B, N, C); with
     * {@link #blocks()} and {@link #lossFromHidden} it makes up {@link #loss}, for trainers that
     * run the blocks themselves.
     */
    public NDArray embedStream(NDArray text, NDArray image) {
        checkShape("text", text, config.textLength());
        checkShape("image", image, config.imageTokens());
        NDArray imageInput = image.get(":, :{}", config.imageTokens() - 1); // (B, Ti) -> (B, Ti − 1)
        return embedText(text).concat(embedImage(imageInput, 0), 1);      // (B, Tt, C) ++ (B, Ti − 1, C) -> (B, N, C)
    }

    /** The loss from the last block's output {@code hidden} (B, N, C) and the stream it was computed from. */
    public PriorLoss lossFromHidden(NDArray hidden, NDArray text, NDArray image) {
        int tt = config.textLength();
        NDArray h = finalLn.forward(hidden);
        NDArray w = unembedding.weight().array();
        NDManager m = h.getManager();
        NDArray textLogits = ai.djl.nn.core.Linear.linear(h.get(":, :{}", tt - 1),        // (B, Tt − 1, C)
                w.get(m, new NDIndex(":{}", config.imageLogitOffset()))).singletonOrThrow(); // -> (B, Tt − 1, textVocab + Tt)
        NDArray imageLogits = ai.djl.nn.core.Linear.linear(h.get(":, {}:", tt - 1),      // (B, Ti, C)
                w.get(m, new NDIndex("{}:", config.imageLogitOffset()))).singletonOrThrow(); // -> (B, Ti, imageVocab)
        NDArray textLoss = crossEntropy(textLogits, textTargets(text).get(":, 1:"));
        NDArray imageLoss = crossEntropy(imageLogits, image);
        NDArray total = Scalars.mul(textLoss, PriorLoss.TEXT_WEIGHT).add(Scalars.mul(imageLoss, PriorLoss.IMAGE_WEIGHT));
        return new PriorLoss(total, textLoss, imageLoss);
    }

    /** Text slots (B, Tt) -> their targets in the joint vocabulary: the token, or textVocab + p for a pad in slot p. */
    public NDArray textTargets(NDArray text) {
        Shape s = text.getShape();
        NDArray slotIds = text.getManager().arange(config.textVocab(), config.textVocab() + config.textLength())
                .toType(text.getDataType(), false)
                .broadcast(s);                                                  // (Tt) -> (B, Tt)
        return NDArrays.where(text.eq(config.padTokenId()), slotIds, text);
    }

    private static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logp = logits.toType(DataType.FLOAT32, false).logSoftmax(-1);   // (B, T, V)
        return logp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1) // (B, T) -> (B, T, 1)
                .neg().mean();
    }

    // ---- decoding -----------------------------------------------------------------------------

    /**
     * A new {@link FastDecoder} (its own decoding state) under {@code parent}: the same logits as
     * {@link #prefill} and {@link #step}, to the bit, with fewer native calls per token.
     */
    public FastDecoder newDecoder(NDManager parent) {
        return new FastDecoder(this, parent);
    }

    Embedding imageEmbedding() {
        return imageEmbedding;
    }

    Embedding imageRow() {
        return imageRow;
    }

    Embedding imageColumn() {
        return imageColumn;
    }

    LayerNorm finalLn() {
        return finalLn;
    }

    Linear unembedding() {
        return unembedding;
    }

    /** A new empty decoding state for this model under {@code parent}. */
    public KvCache newCache(NDManager parent) {
        return new KvCache(parent, config.layers(), config.inputLength());
    }

    /**
     * Reference path: logits of image token k given text (B, Tt) and imagePrefix (B, k) int,
     * 0 ≤ k &lt; Ti, recomputing the whole prefix. Returns (B, imageVocab).
     */
    public NDArray imageLogitsAfter(NDArray text, NDArray imagePrefix) {
        checkShape("text", text, config.textLength());
        long k = imagePrefix.getShape().get(1);
        if (imagePrefix.getShape().dimension() != 2 || k >= config.imageTokens()
                || imagePrefix.getShape().get(0) != text.getShape().get(0)) {
            throw new IllegalArgumentException("imagePrefix shape " + imagePrefix.getShape() + " must be (B, k) with B = "
                    + text.getShape().get(0) + " and k < " + config.imageTokens());
        }
        NDArray x = embedText(text);
        if (k > 0) {
            x = x.concat(embedImage(imagePrefix, 0), 1);                        // (B, Tt + k, C)
        }
        NDArray h = runBlocks(x, 0, null);
        return imageHead(h.get(":, -1:"));                                      // (B, 1, C) -> (B, imageVocab)
    }

    /** Runs the text slots (B, Tt) into an empty {@code cache}; returns the logits of image token 0, (B, imageVocab). */
    public NDArray prefill(NDArray text, KvCache cache) {
        checkShape("text", text, config.textLength());
        if (cache.length() != 0) {
            throw new IllegalStateException("prefill needs an empty cache, this one holds " + cache.length());
        }
        NDArray h = runBlocks(embedText(text), 0, cache);
        return imageHead(h.get(":, -1:"));
    }

    /**
     * Feeds image token k (the next one, k = cache length − Tt) of every row, {@code tokens} (B) int,
     * and returns the logits of image token k + 1, (B, imageVocab).
     */
    public NDArray step(NDArray tokens, KvCache cache) {
        int position = cache.length();
        int k = position - config.textLength();
        if (k < 0 || k >= config.imageTokens() - 1) {
            throw new IllegalStateException("cache at position " + position + " cannot take an image token (text "
                    + config.textLength() + ", last input position " + (config.inputLength() - 1) + ")");
        }
        NDArray x = embedImage(tokens.reshape(-1, 1), k);                      // (B) -> (B, 1) -> (B, 1, C)
        return imageHead(runBlocks(x, position, cache));
    }

    // ---- internals ----------------------------------------------------------------------------

    /** Text slots (B, Tt) -> (B, Tt, C). */
    NDArray embedText(NDArray text) {
        NDArray x = textEmbedding.forward(text).add(textPosition.table().array()); // (B, Tt, C) + (Tt, C)
        NDArray pad = text.eq(config.padTokenId()).toType(x.getDataType(), false).expandDims(-1); // (B, Tt, 1)
        NDArray keep = pad.neg().addi(1);
        return x.mul(keep).add(pad.mul(textPadding.table().array()));         // pads -> padding embedding of their slot
    }

    /** Image tokens (B, n) at image indices start..start+n−1 -> (B, n, C). */
    private NDArray embedImage(NDArray image, int start) {
        int n = Math.toIntExact(image.getShape().get(1));
        int g = config.gridSize();
        int[] rows = new int[n];
        int[] cols = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = (start + i) / g;
            cols[i] = (start + i) % g;
        }
        NDManager m = image.getManager();
        NDArray position = imageRow.forward(m.create(rows)).add(imageColumn.forward(m.create(cols))); // (n, C)
        return imageEmbedding.forward(image).add(position);                    // (B, n, C) + (n, C)
    }

    /** Blocks over x (B, n, C) at input positions start..start+n−1 (attending to the cache, if any). */
    private NDArray runBlocks(NDArray x, int start, KvCache cache) {
        int n = Math.toIntExact(x.getShape().get(1));
        if (cache == null && start != 0) {
            throw new IllegalArgumentException("without a cache the input must start at position 0, not " + start);
        }
        if (cache != null) {
            cache.checkRoom(n);
        }
        DataType dataType = x.getDataType();
        NDManager scratch = x.getManager();
        Map<AttentionMask.Type, NDArray> rows = new EnumMap<>(AttentionMask.Type.class);
        for (int i = 0; i < blocks.size(); i++) {
            TransformerBlock block = blocks.get(i);
            NDArray mask = rows.computeIfAbsent(block.maskType(),
                    t -> masks.rows(t, start, n, dataType, scratch));
            x = block.forward(x, mask, cache, i);
        }
        if (cache != null) {
            cache.advance(n);
        }
        return x;
    }

    /** Image logits of the last position: h (B, 1, C) -> (B, imageVocab). */
    private NDArray imageHead(NDArray h) {
        NDArray w = unembedding.weight().array()
                .get(h.getManager(), new NDIndex("{}:", config.imageLogitOffset())); // (imageVocab, C)
        NDArray last = finalLn.forward(h).reshape(-1, config.width());         // (B, 1, C) -> (B, C)
        return ai.djl.nn.core.Linear.linear(last, w).singletonOrThrow();
    }

    private static void checkShape(String name, NDArray ids, int length) {
        Shape s = ids.getShape();
        if (s.dimension() != 2 || s.get(1) != length) {
            throw new IllegalArgumentException(name + " shape " + s + " must be (B, " + length + ")");
        }
        if (!ids.getDataType().isInteger()) {
            throw new IllegalArgumentException(name + " must hold integer ids, not " + ids.getDataType());
        }
    }

    /** The blocks as numbered children, so checkpoint keys read {@code blocks.3.attn.qkv.weight}. */
    private static final class BlockList extends Module {
        TransformerBlock add(int index, TransformerBlock block) {
            return child(Integer.toString(index), block);
        }
    }
}
