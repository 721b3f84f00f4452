package dalle.core.sampling;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.transformer.ContinuousDecoder;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * A sampling batch that candidates join and leave between image tokens (iteration-level batching): a group of
 * candidates {@link #join joins} with its text prefilled and its token 0 drawn, every {@link #step} draws one more
 * token of every candidate in the batch, and a group leaves once its Ti tokens are drawn, each group at its own
 * position with its own KV rows ({@link ContinuousDecoder}).
 *
 * <p>Every candidate is drawn as {@link ImageSampler} draws it: the same rows (a guided candidate brings its
 * unconditional row), its own sampler and its own generator {@link CandidateRng#of(long, int)}, so its codes do
 * not depend on which other candidates shared its steps, up to the rounding noted in {@link ContinuousDecoder}.
 *
 * <p>One thread; close it to free every group's state.
 */
public final class ContinuousBatch implements AutoCloseable {

    /** Candidates that joined together; their codes are complete once {@link #done()}. */
    public static final class Group {
        private final List<CandidateSpec> specs;
        private final CandidateRows rows;
        private final int[][] codes;
        private final ContinuousDecoder.Cohort cohort;
        private int drawn;

        private Group(PriorConfig config, List<CandidateSpec> specs, ContinuousDecoder.Cohort cohort) {
            this.specs = List.copyOf(specs);
            this.rows = new CandidateRows(config, this.specs);
            this.codes = new int[specs.size()][config.imageTokens()];
            this.cohort = cohort;
        }

        public List<CandidateSpec> specs() {
            return specs;
        }

        /** Image tokens drawn per candidate so far. */
        public int drawn() {
            return drawn;
        }

        public boolean done() {
            return drawn == codes[0].length;
        }

        /** The Ti codes of every spec, in the order of {@link #specs()}. */
        public List<int[]> codes() {
            if (!done()) {
                throw new IllegalStateException("the group has drawn " + drawn + " of " + codes[0].length + " tokens");
            }
            return List.of(codes);
        }
    }

    private final PriorConfig config;
    private final NDManager manager;
    private final ContinuousDecoder decoder;
    private final List<Group> groups = new ArrayList<>();
    private final LogitReader reader = new LogitReader();

    /** An empty batch over {@code prior}; its state lives on a sub-manager of the prior's manager. */
    public ContinuousBatch(DallePrior prior) {
        this.config = prior.config();
        this.manager = prior.manager().newSubManager();
        this.decoder = new ContinuousDecoder(prior, manager);
    }

    /** Candidates in the batch. */
    public int candidates() {
        int n = 0;
        for (Group g : groups) {
            n += g.specs.size();
        }
        return n;
    }

    /** The groups in the batch, in join order. */
    public List<Group> groups() {
        return List.copyOf(groups);
    }

    /**
     * Adds {@code specs} to the batch: their text is prefilled and their token 0 drawn now; the next
     * {@link #step} draws their token 1. A group whose grid is a single token is done at once and never joins.
     *
     * @throws IllegalArgumentException when a spec's text does not fit the prior (naming the spec)
     */
    public Group join(List<CandidateSpec> specs) {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("no candidates to join");
        }
        ContinuousDecoder.Cohort cohort = decoder.cohort();
        Group g;
        try {
            g = new Group(config, specs, cohort);
            float[] logits;
            try (NDManager step = manager.newSubManager()) {
                logits = reader.read(cohort.prefill(g.rows.text(step)));
            }
            g.rows.sampleInto(g.codes, 0, logits, 0);
        } catch (RuntimeException e) {
            cohort.close();
            throw e;
        }
        g.drawn = 1;
        if (g.done()) {
            cohort.close();
        } else {
            groups.add(g);
        }
        return g;
    }

    /**
     * Draws the next token of every candidate in the batch (one forward pass over all groups' rows); returns the
     * groups completed by it, which have left the batch.
     *
     * @throws IllegalStateException when the batch is empty
     */
    public List<Group> step() {
        if (groups.isEmpty()) {
            throw new IllegalStateException("no candidates in the batch");
        }
        int r = 0;
        for (Group g : groups) {
            r += g.rows.count();
        }
        int[] tokens = new int[r];
        int row = 0;
        for (Group g : groups) {
            int[] t = g.rows.tokensAt(g.codes, g.drawn - 1);
            System.arraycopy(t, 0, tokens, row, t.length);
            row += t.length;
        }
        float[] logits;
        try (NDManager step = manager.newSubManager()) {
            logits = reader.read(decoder.step(step.create(tokens, new Shape(r, 1))));   // (R, 1) -> (R, imageVocab)
        }
        List<Group> finished = new ArrayList<>();
        row = 0;
        for (Group g : List.copyOf(groups)) {
            g.rows.sampleInto(g.codes, g.drawn, logits, row);
            row += g.rows.count();
            g.drawn++;
            if (g.done()) {
                g.cohort.close();
                groups.remove(g);
                finished.add(g);
            }
        }
        return finished;
    }

    /**
     * Takes a group that is not done out of the batch (nobody wants its codes any more: its requests were cancelled
     * or ran out of time): its rows are not part of the next {@link #step} and its state is freed. The other groups
     * keep drawing from their own generators.
     *
     * @throws IllegalArgumentException when the group is not in this batch (done, left already, or another batch's)
     */
    public void leave(Group g) {
        if (!groups.remove(g)) {
            throw new IllegalArgumentException("the group of " + g.specs.size() + " candidates is not in this batch");
        }
        g.cohort.close();
    }

    /** Frees every group's state; groups not done are abandoned. */
    @Override
    public void close() {
        decoder.close();
        groups.clear();
        manager.close();
    }
}
