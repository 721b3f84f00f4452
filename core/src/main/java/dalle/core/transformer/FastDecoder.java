package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Incremental decoding of one batch of rows: {@link DallePrior#prefill} and {@link DallePrior#step}
 * with their decoding state, doing less around the same arithmetic.
 *
 * <p>Every floating-point operation is the libtorch call the reference path makes, on the same
 * shapes and the same values (layer norms, the fused QKV and MLP projections, the attention matmuls
 * over the same key range, softmax, residual adds), so the logits are the same to the bit; only what
 * surrounds them changes:
 * <ul>
 *   <li>the KV buffers are allocated once, uninitialised (positions past the length are never read),
 *       and written in place with index objects built once per step, not parsed per layer;</li>
 *   <li>row + column embeddings of every image index, the 1/√D scale and the image part of the
 *       unembedding are made once per run, not per token;</li>
 *   <li>residual adds and the scale run in place, and a one-position step skips the transposes that
 *       are no-ops on its layout: about 23 native calls per layer and token instead of 27, and no
 *       temporary constant.</li>
 * </ul>
 *
 * <p>Shapes: B rows, n new positions, S = positions held + n, C width, H heads, D = C/H,
 * N = Tt + Ti − 1 input positions (the buffers' capacity). Keys are held transposed, (B, H, D, N),
 * values as (B, H, N, D), as in {@link KvCache}. One decoder per decoding run and thread; arrays a
 * call returns live on its input's manager.
 */
public final class FastDecoder implements AutoCloseable {

    private final DallePrior prior;
    private final PriorConfig config;
    private final List<TransformerBlock> blocks;
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private final Map<DataType, NDArray> scales = new EnumMap<>(DataType.class);
    private NDArray imagePositions;     // (Ti, C): row + column embedding of image index k
    private NDArray imageHeadWeight;    // (imageVocab, C): the image rows of the unembedding
    private int length;

    FastDecoder(DallePrior prior, NDManager parent) {
        this.prior = prior;
        this.config = prior.config();
        this.blocks = prior.blocks();
        this.manager = parent.newSubManager();
        this.capacity = config.inputLength();
        this.keys = new NDArray[blocks.size()];
        this.values = new NDArray[blocks.size()];
    }

    /** Positions held; the next call starts at this input position. */
    public int length() {
        return length;
    }

    /** Runs the text slots (B, Tt) int; returns the logits of image token 0, (B, imageVocab). */
    public NDArray prefill(NDArray text) {
        if (length != 0) {
            throw new IllegalStateException("prefill needs an empty decoder, this one holds " + length);
        }
        if (text.getShape().dimension() != 2 || text.getShape().get(1) != config.textLength()) {
            throw new IllegalArgumentException("text shape " + text.getShape() + " must be (B, " + config.textLength() + ")");
        }
        return imageHead(forward(prior.embedText(text)));
    }

    /**
     * Feeds image token k = length − Tt of every row, {@code tokens} (B, 1) int, and returns the
     * logits of image token k + 1, (B, imageVocab).
     */
    public NDArray step(NDArray tokens) {
        int k = length - config.textLength();
        if (k < 0 || k >= config.imageTokens() - 1) {
            throw new IllegalStateException("decoder at position " + length + " cannot take an image token (text "
                    + config.textLength() + ", last input position " + (capacity - 1) + ")");
        }
        NDArray ids = tokens.getShape().dimension() == 2 ? tokens : tokens.reshape(-1, 1); // (B) -> (B, 1)
        NDArray x = prior.imageEmbedding().forward(ids)                        // (B, 1) -> (B, 1, C)
                .addi(imagePosition(k, tokens.getManager()));                   // + (1, C)
        return imageHead(forward(x));
    }

    /** The blocks over x (B, n, C) at positions length..length+n−1, extending the buffers; (B, n, C). */
    private NDArray forward(NDArray x) {
        Positions at = positions(Math.toIntExact(x.getShape().get(1)), x.getDataType(), x.getManager());
        for (int i = 0; i < blocks.size(); i++) {
            TransformerBlock block = blocks.get(i);
            // a layer's temporaries are freed when it ends, so the next layer reuses their memory instead of
            // touching fresh pages (a prefill's layers held ~15 MB each at 32 rows); x is updated in place
            try (NDManager layer = x.getManager().newSubManager()) {
                x.tempAttach(layer);
                NDArray fused = block.attention().qkv().forward(block.ln1().forward(x)); // (B, n, C) -> (B, n, 3C)
                x.addi(block.attention().proj().forward(attend(i, fused, at)));
                x.addi(block.mlp().forward(block.ln2().forward(x)));
            }
        }
        advance(at);
        return x;
    }

    /**
     * The next n positions of this decoder's rows, length..length+n−1: the index objects and mask rows their
     * {@link #attend} calls share. Checks that they fit.
     */
    Positions positions(int n, DataType dataType, NDManager scratch) {
        int start = length;
        int end = start + n;
        if (end > capacity) {
            throw new IllegalStateException("decoder holds " + start + " of " + capacity + " positions; cannot add " + n);
        }
        return new Positions(start, n, dataType, scratch);
    }

    /** Marks the positions of {@code at} as held, after the last layer's {@link #attend}. */
    void advance(Positions at) {
        if (at.start != length) {
            throw new IllegalStateException("positions from " + at.start + " do not follow the " + length + " held");
        }
        length = at.start + at.n;
    }

    /** Positions start..start+n−1 of one forward pass: buffer slots, held ranges, and one mask per type. */
    final class Positions {
        private final int start;
        private final int n;
        private final DataType dataType;
        private final NDManager scratch;
        private final NDArray scale;
        private final NDIndex keySlot;
        private final NDIndex valueSlot;
        private final NDIndex heldKeys;
        private final NDIndex heldValues;
        private final Map<AttentionMask.Type, NDArray> masks = new EnumMap<>(AttentionMask.Type.class);

        private Positions(int start, int n, DataType dataType, NDManager scratch) {
            int end = start + n;
            this.start = start;
            this.n = n;
            this.dataType = dataType;
            this.scratch = scratch;
            this.scale = scale(dataType);
            this.keySlot = new NDIndex().addAllDim(3).addSliceDim(start, end);        // (B, H, D, start:end)
            this.valueSlot = new NDIndex().addAllDim(2).addSliceDim(start, end);      // (B, H, start:end, D)
            this.heldKeys = new NDIndex().addAllDim(3).addSliceDim(0, end);           // (B, H, D, :end)
            this.heldValues = new NDIndex().addAllDim(2).addSliceDim(0, end);         // (B, H, :end, D)
        }

        NDArray mask(AttentionMask.Type type) {
            return masks.computeIfAbsent(type, t -> prior.masks().rows(t, start, n, dataType, scratch)); // (n, S)
        }
    }

    /**
     * Layer i's attention for this decoder's rows: the fused projection {@code fused} (B, n, 3C) of positions
     * {@code at} is split into queries, keys and values, the keys and values written into the buffers, and the
     * queries attend over every held position; returns (B, n, C), before the output projection.
     */
    NDArray attend(int i, NDArray fused, Positions at) {
        TransformerBlock block = blocks.get(i);
        SparseAttention attn = block.attention();
        int h = attn.heads();
        int d = attn.headWidth();
        int n = at.n;
        long b = fused.getShape().get(0);
        NDArray mask = at.mask(block.maskType());                                    // (n, S)
        fused = n == 1
                ? fused.reshape(b, 3L * h, 1, d)                                    // (B, 1, 3C) -> (B, 3H, 1, D), same layout
                : fused.reshape(b, n, 3L * h, d).transpose(0, 2, 1, 3);             // (B, n, 3C) -> (B, 3H, n, D)
        NDList parts = fused.split(3, 1);                                            // 3 × (B, H, n, D)
        NDArray q = parts.get(0);
        if (keys[i] == null) {
            keys[i] = manager.create(new Shape(b, h, d, capacity), at.dataType);    // uninitialised: read only up to length
            values[i] = manager.create(new Shape(b, h, capacity, d), at.dataType);
        }
        keys[i].set(at.keySlot, parts.get(1).transpose(0, 1, 3, 2));              // (B, H, n, D) -> (B, H, D, n) into the slot
        values[i].set(at.valueSlot, parts.get(2));
        NDArray kT = keys[i].get(at.scratch, at.heldKeys);                          // (B, H, D, S)
        NDArray v = values[i].get(at.scratch, at.heldValues);                       // (B, H, S, D)
        NDArray scores = q.matMul(kT).muli(at.scale).addi(mask);                    // (B, H, n, S)
        NDArray y = scores.softmax(-1).matMul(v);                                   // (B, H, n, D)
        return n == 1
                ? y.reshape(b, 1, (long) h * d)                                     // (B, H, 1, D) -> (B, 1, C), same layout
                : y.transpose(0, 2, 1, 3).reshape(b, n, (long) h * d);              // (B, H, n, D) -> (B, n, H, D) -> (B, n, C)
    }

    /** Image logits of the last position: h (B, n, C) -> (B, imageVocab). */
    private NDArray imageHead(NDArray h) {
        if (imageHeadWeight == null) {
            imageHeadWeight = prior.unembedding().weight().array()
                    .get(manager, new NDIndex("{}:", config.imageLogitOffset())); // (imageVocab, C)
        }
        NDArray last = h.getShape().get(1) == 1 ? h : h.get(":, -1:");               // (B, 1, C)
        NDArray normed = prior.finalLn().forward(last).reshape(-1, config.width());  // (B, 1, C) -> (B, C)
        return ai.djl.nn.core.Linear.linear(normed, imageHeadWeight).singletonOrThrow();
    }

    /** Row + column embedding of image index k, (1, C), as a view of a table made once. */
    private NDArray imagePosition(int k, NDManager scratch) {
        if (imagePositions == null) {
            int ti = config.imageTokens();
            int g = config.gridSize();
            int[] rows = new int[ti];
            int[] cols = new int[ti];
            for (int i = 0; i < ti; i++) {
                rows[i] = i / g;
                cols[i] = i % g;
            }
            imagePositions = prior.imageRow().forward(manager.create(rows))
                    .add(prior.imageColumn().forward(manager.create(cols)));       // (Ti, C)
            imagePositions.attach(manager);
        }
        return imagePositions.get(scratch, new NDIndex().addSliceDim(k, k + 1));    // (1, C)
    }

    private NDArray scale(DataType dataType) {
        return scales.computeIfAbsent(dataType, t -> {
            SparseAttention any = blocks.get(0).attention();
            return manager.full(new Shape(), any.scale(), t);
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
