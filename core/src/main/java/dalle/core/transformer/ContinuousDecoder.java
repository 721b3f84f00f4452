package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental decoding of a batch that rows join and leave between tokens (iteration-level, or continuous,
 * batching: Orca, vLLM): rows arrive in cohorts, each cohort prefilled on its own, and every {@link #step} advances
 * every cohort by one image token, each at its own position.
 *
 * <p>Each cohort keeps its own {@link FastDecoder} state (KV buffers and position), and its attention is that
 * decoder's own: the same libtorch calls on the same shapes as a static batch of just that cohort. What the cohorts
 * share in a step are the row-wise parts: embeddings, layer norms, the fused QKV, output and MLP projections and the
 * image head run once over the rows of all cohorts, (R, 1, C), with R = Σ cohort rows. A step with a single cohort
 * makes exactly {@link FastDecoder#step}'s calls on the same shapes (its logits are the same to the bit:
 * {@code ContinuousDecoderTest}); with several, the projections see more rows than the cohort alone would, and
 * libtorch's matmul may round a row's products differently for a different row count, as it does for any other
 * batch composition of a static batch.
 *
 * <p>Shapes: R rows over all cohorts in join order, C width, Ti image tokens. One thread; arrays a step returns
 * live on its input's manager.
 */
public final class ContinuousDecoder implements AutoCloseable {

    /** Rows that joined together: their own decoding state, prefilled together, at one position. */
    public final class Cohort implements AutoCloseable {
        private final FastDecoder state;
        private int rows = -1;
        private boolean left;

        private Cohort() {
            this.state = prior.newDecoder(manager);
        }

        /** Rows of this cohort (known after {@link #prefill}). */
        public int rows() {
            return rows;
        }

        /** Positions held: Tt after the prefill, + 1 per step. */
        public int length() {
            return state.length();
        }

        /**
         * Runs the cohort's text slots (B, Tt) int, exactly as {@link FastDecoder#prefill}; returns the logits of
         * image token 0, (B, imageVocab). From the next {@link ContinuousDecoder#step} on, the cohort's rows are
         * part of every step until it {@link #close leaves}.
         */
        public NDArray prefill(NDArray text) {
            if (left) {
                throw new IllegalStateException("this cohort left the batch");
            }
            NDArray logits = state.prefill(text);
            rows = Math.toIntExact(text.getShape().get(0));
            cohorts.add(this);
            return logits;
        }

        /** Leaves the batch (its grid is complete, or it is abandoned) and frees its buffers. */
        @Override
        public void close() {
            if (!left) {
                left = true;
                cohorts.remove(this);
                state.close();
            }
        }
    }

    private final DallePrior prior;
    private final PriorConfig config;
    private final List<TransformerBlock> blocks;
    private final NDManager manager;
    private final List<Cohort> cohorts = new ArrayList<>();
    private NDArray imageHeadWeight;    // (imageVocab, C): the image rows of the unembedding

    /** A decoder with no cohorts; its state lives on a sub-manager of {@code parent}. */
    public ContinuousDecoder(DallePrior prior, NDManager parent) {
        this.prior = prior;
        this.config = prior.config();
        this.blocks = prior.blocks();
        this.manager = parent.newSubManager();
    }

    /** A new cohort; it joins the batch when it is {@link Cohort#prefill prefilled}. */
    public Cohort cohort() {
        return new Cohort();
    }

    /** The cohorts in the batch, in join order: the order of a step's rows. */
    public List<Cohort> cohorts() {
        return List.copyOf(cohorts);
    }

    /** Rows over every cohort in the batch. */
    public int rows() {
        int r = 0;
        for (Cohort c : cohorts) {
            r += c.rows;
        }
        return r;
    }

    /**
     * Feeds every cohort's next image token, {@code tokens} (R, 1) int with the rows of the cohorts in join order,
     * each cohort at its own image index k = length − Tt, and returns the logits of each row's image token k + 1,
     * (R, imageVocab).
     *
     * @throws IllegalStateException when a cohort has no next position (its grid is complete: it must leave first)
     */
    public NDArray step(NDArray tokens) {
        if (cohorts.isEmpty()) {
            throw new IllegalStateException("no cohort to step");
        }
        NDArray ids = tokens.getShape().dimension() == 2 ? tokens : tokens.reshape(-1, 1); // (R) -> (R, 1)
        int r = rows();
        if (ids.getShape().get(0) != r) {
            throw new IllegalArgumentException("tokens shape " + tokens.getShape() + " must hold the " + r
                    + " rows of the batch's cohorts");
        }
        NDManager scratch = tokens.getManager();
        int tt = config.textLength();
        int g = config.gridSize();
        int[] imageRows = new int[r];
        int[] imageCols = new int[r];
        int[] cuts = new int[cohorts.size() - 1];
        List<FastDecoder.Positions> at = new ArrayList<>(cohorts.size());
        int row = 0;
        for (int c = 0; c < cohorts.size(); c++) {
            Cohort cohort = cohorts.get(c);
            int k = cohort.state.length() - tt;
            if (k < 0 || k >= config.imageTokens() - 1) {
                throw new IllegalStateException("cohort " + c + " at position " + cohort.state.length()
                        + " cannot take an image token (text " + tt + ", " + config.imageTokens() + " image tokens)");
            }
            for (int i = 0; i < cohort.rows; i++) {
                imageRows[row + i] = k / g;
                imageCols[row + i] = k % g;
            }
            row += cohort.rows;
            if (c + 1 < cohorts.size()) {
                cuts[c] = row;
            }
        }
        NDArray position = prior.imageRow().forward(scratch.create(imageRows))
                .add(prior.imageColumn().forward(scratch.create(imageCols)))     // (R, C): row + column of each row's k
                .reshape(r, 1, config.width());                                    // (R, C) -> (R, 1, C)
        NDArray x = prior.imageEmbedding().forward(ids).addi(position);           // (R, 1) -> (R, 1, C)
        for (Cohort cohort : cohorts) {
            at.add(cohort.state.positions(1, x.getDataType(), scratch));
        }
        for (int i = 0; i < blocks.size(); i++) {
            TransformerBlock block = blocks.get(i);
            NDArray fused = block.attention().qkv().forward(block.ln1().forward(x)); // (R, 1, C) -> (R, 1, 3C)
            NDArray y;
            if (cohorts.size() == 1) {
                y = cohorts.get(0).state.attend(i, fused, at.get(0));             // (R, 1, C)
            } else {
                NDList parts = fused.split(toLongs(cuts), 0);                      // per cohort (Rc, 1, 3C)
                NDList ys = new NDList(cohorts.size());
                for (int c = 0; c < cohorts.size(); c++) {
                    ys.add(cohorts.get(c).state.attend(i, parts.get(c), at.get(c))); // (Rc, 1, C)
                }
                y = NDArrays.concat(ys, 0);                                         // -> (R, 1, C)
            }
            x = x.addi(block.attention().proj().forward(y));
            x = x.addi(block.mlp().forward(block.ln2().forward(x)));
        }
        for (int c = 0; c < cohorts.size(); c++) {
            cohorts.get(c).state.advance(at.get(c));
        }
        return imageHead(x);
    }

    /** Image logits: h (R, 1, C) -> (R, imageVocab), as {@link FastDecoder}'s head. */
    private NDArray imageHead(NDArray h) {
        if (imageHeadWeight == null) {
            imageHeadWeight = prior.unembedding().weight().array()
                    .get(manager, new NDIndex("{}:", config.imageLogitOffset())); // (imageVocab, C)
        }
        NDArray normed = prior.finalLn().forward(h).reshape(-1, config.width());  // (R, 1, C) -> (R, C)
        return ai.djl.nn.core.Linear.linear(normed, imageHeadWeight).singletonOrThrow();
    }

    private static long[] toLongs(int[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** Frees every cohort's state. */
    @Override
    public void close() {
        for (Cohort c : List.copyOf(cohorts)) {
            c.close();
        }
        manager.close();
    }
}
