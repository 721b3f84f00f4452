package dalle.core.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.FastDecoder;
import dalle.core.transformer.KvCache;
import dalle.core.transformer.PriorConfig;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Draws image codes from a {@link DallePrior}, many candidates at once (PAPER.md, "Sampling and
 * reranking").
 *
 * <p>All candidates of a call, whatever request they belong to and whatever their parameters,
 * advance together: one batched forward pass per image token. Each pass's image logits (the text
 * part of the vocabulary is never sampled) are copied to Java and every row is sampled with its own
 * {@link Sampler} and its own generator {@link CandidateRng#of(long, int)}, so a candidate's codes
 * do not depend on the batch it shared. A guided candidate (guidanceScale ≠ 1) brings one extra
 * unconditional row (all text slots padding) decoded with the same image tokens; its logits are
 * {@code uncond + s · (cond − uncond)}.
 *
 * <p>Thread-safe: every call has its own decoding state.
 */
public final class ImageSampler {

    /**
     * One candidate to draw.
     *
     * @param text           Tt text slot ids, caption then padding, each in [0, textVocab)
     * @param seed           the request's seed
     * @param candidateIndex the candidate's index within its request (>= 0); with the seed it names the RNG stream
     * @param params         how its tokens are drawn
     */
    public record CandidateSpec(int[] text, long seed, int candidateIndex, SamplingParams params) {
        public CandidateSpec {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(params, "params");
            if (candidateIndex < 0) {
                throw new IllegalArgumentException("candidateIndex " + candidateIndex + " must be >= 0");
            }
            text = text.clone();
        }

        @Override
        public int[] text() {
            return text.clone();
        }
    }

    private final DallePrior prior;
    private final PriorConfig config;

    public ImageSampler(DallePrior prior) {
        this.prior = prior;
        this.config = prior.config();
    }

    /**
     * How the prior is run token by token; every path draws the same codes (the cached paths give the
     * same logits to the bit: {@code SamplerPathParityTest}).
     */
    public enum Path {
        /** Recompute the whole prefix for every token: the reference. */
        RECOMPUTE,
        /** {@link DallePrior#prefill}/{@link DallePrior#step} with a {@link KvCache}: the incremental reference. */
        KV_CACHE,
        /** A {@link FastDecoder}: the same arithmetic as {@link #KV_CACHE} with fewer native calls; what serving uses. */
        FAST
    }

    /** A new, empty {@link ContinuousBatch} over this sampler's prior (one thread uses it; close it). */
    public ContinuousBatch newContinuousBatch() {
        return new ContinuousBatch(prior);
    }

    /** {@link #sample(List, boolean, IntConsumer)} without progress reports. */
    public List<int[]> sample(List<CandidateSpec> batch, boolean useKvCache) {
        return sample(batch, useKvCache, done -> { });
    }

    /**
     * Draws Ti = G² image codes, in [0, imageVocab), for every spec (results in the order of {@code batch}).
     *
     * @param useKvCache true: decode incrementally ({@link Path#FAST}); false: recompute the whole
     *                   prefix for every token ({@link Path#RECOMPUTE}, the reference path, same results)
     * @param progress   told the number of image tokens done per candidate (1..Ti) after each step
     */
    public List<int[]> sample(List<CandidateSpec> batch, boolean useKvCache, IntConsumer progress) {
        return sample(batch, useKvCache ? Path.FAST : Path.RECOMPUTE, progress);
    }

    /** {@link #sample(List, Path, IntConsumer)} without progress reports. */
    public List<int[]> sample(List<CandidateSpec> batch, Path path) {
        return sample(batch, path, done -> { });
    }

    /** Draws the codes of every spec along {@code path}; see {@link #sample(List, boolean, IntConsumer)}. */
    public List<int[]> sample(List<CandidateSpec> batch, Path path, IntConsumer progress) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("no candidates to sample");
        }
        CandidateRows rows = new CandidateRows(config, batch);
        int ti = config.imageTokens();
        int[][] codes = new int[batch.size()][ti];
        LogitReader reader = new LogitReader();
        try (NDManager run = prior.manager().newSubManager()) {
            switch (path) {
                case FAST -> {
                    try (FastDecoder decoder = prior.newDecoder(run)) {
                        float[] logits;
                        try (NDManager step = run.newSubManager()) {
                            logits = reader.read(decoder.prefill(rows.text(step)));
                        }
                        for (int k = 0; k < ti; k++) {
                            rows.sampleInto(codes, k, logits, 0);
                            progress.accept(k + 1);
                            if (k + 1 < ti) {
                                try (NDManager step = run.newSubManager()) {
                                    NDArray tokens = step.create(rows.tokensAt(codes, k), new Shape(rows.count(), 1)); // (R, 1)
                                    logits = reader.read(decoder.step(tokens));
                                }
                            }
                        }
                    }
                }
                case KV_CACHE -> {
                    try (KvCache cache = prior.newCache(run)) {
                        float[] logits;
                        try (NDManager step = run.newSubManager()) {
                            logits = reader.read(prior.prefill(rows.text(step), cache));
                        }
                        for (int k = 0; k < ti; k++) {
                            rows.sampleInto(codes, k, logits, 0);
                            progress.accept(k + 1);
                            if (k + 1 < ti) {
                                try (NDManager step = run.newSubManager()) {
                                    NDArray tokens = step.create(rows.tokensAt(codes, k));          // (R)
                                    logits = reader.read(prior.step(tokens, cache));
                                }
                            }
                        }
                    }
                }
                case RECOMPUTE -> {
                    for (int k = 0; k < ti; k++) {
                        float[] logits;
                        try (NDManager step = run.newSubManager()) {
                            NDArray prefix = step.create(rows.prefix(codes, k), new Shape(rows.count(), k)); // (R, k)
                            logits = reader.read(prior.imageLogitsAfter(rows.text(step), prefix));
                        }
                        rows.sampleInto(codes, k, logits, 0);
                        progress.accept(k + 1);
                    }
                }
            }
        }
        return List.of(codes);
    }
}
