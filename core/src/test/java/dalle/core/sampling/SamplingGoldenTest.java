package dalle.core.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Golden codes: what the sampler drew for fixed seeds before the sampler was optimised (recorded from
 * main at 3969606, the KV-cache path of that day), so that any later change to the decoding
 * arithmetic that moves even one sampled code fails here.
 */
class SamplingGoldenTest {

    /** A mixed batch: plain, greedy, top-k, top-p, guided, other caption, other seeds and candidate indices. */
    static List<CandidateSpec> mixedBatch(PriorConfig config) {
        SplittableRandom rng = new SplittableRandom(2026);
        int[] caption = text(config, rng, 5);
        int[] other = text(config, rng, 9);
        List<CandidateSpec> specs = new ArrayList<>();
        specs.add(new CandidateSpec(caption, 42, 0, SamplingParams.DEFAULT));
        specs.add(new CandidateSpec(caption, 42, 1, SamplingParams.DEFAULT));
        specs.add(new CandidateSpec(caption, 42, 2, SamplingParams.greedy()));
        specs.add(new CandidateSpec(other, 7, 0, new SamplingParams(0.8f, 6, 1f, 1f)));
        specs.add(new CandidateSpec(other, 7, 3, new SamplingParams(1.2f, 0, 0.9f, 1f)));
        specs.add(new CandidateSpec(caption, 9, 5, new SamplingParams(1f, 0, 1f, 3f)));
        specs.add(new CandidateSpec(other, 11, 1, new SamplingParams(0.7f, 5, 0.95f, 2f)));
        return specs;
    }

    static int[] text(PriorConfig config, SplittableRandom rng, int words) {
        int[] t = new int[config.textLength()];
        for (int i = 0; i < t.length; i++) {
            t[i] = i < words ? 1 + rng.nextInt(config.textVocab() - 1) : config.padTokenId();
        }
        return t;
    }

    static String codes(List<int[]> out) {
        StringBuilder sb = new StringBuilder();
        for (int[] c : out) {
            sb.append(Arrays.toString(c)).append('\n');
        }
        return sb.toString();
    }

    static final int[][] SMALL_CODES = {
        {4, 14, 15, 10, 11, 1, 15, 8, 10, 13, 10, 14, 12, 14, 14, 2},
        {7, 14, 14, 10, 4, 5, 5, 10, 10, 14, 3, 14, 7, 10, 14, 1},
        {1, 14, 3, 14, 11, 14, 3, 14, 12, 15, 9, 9, 9, 14, 3, 14},
        {7, 14, 10, 11, 4, 4, 7, 7, 14, 15, 9, 5, 14, 3, 11, 14},
        {12, 1, 15, 0, 3, 12, 1, 7, 14, 5, 14, 14, 9, 15, 11, 0},
        {14, 5, 11, 14, 12, 15, 15, 15, 10, 12, 2, 1, 14, 13, 10, 10},
        {7, 5, 5, 5, 11, 7, 3, 3, 5, 5, 5, 5, 5, 5, 14, 14},
    };

    /** String.hashCode of {@link #codes} of the tiny-shaped model's 7 candidates (64 codes each). */
    static final int TINY_CODES_HASH = 2041026504;
    /** Its greedy candidate (index 2), for a readable failure. */
    private static final int[] TINY_GREEDY = {418, 20, 79, 52, 156, 156, 156, 156, 315, 311, 374, 383, 156, 383, 156, 354,
        374, 27, 507, 27, 156, 27, 156, 432, 374, 165, 399, 156, 156, 257, 177, 383, 233, 409, 409, 165, 177, 62, 396, 62,
        409, 396, 120, 488, 131, 131, 396, 283, 324, 373, 27, 399, 324, 366, 357, 66, 354, 165, 87, 399, 136, 297, 20, 243};

    /** 6 text slots over 50 ids, a 4×4 grid over 16 codes, width 32, 2 heads, 3 layers; weights ×8 so that draws are far from uniform. */
    static DallePrior smallModel(NDManager manager) {
        DallePrior prior = new DallePrior(manager, new PriorConfig(50, 6, 0, 16, 4, 32, 2, 3, 3, 4), 5);
        scaleWeights(prior, 8);
        return prior;
    }

    /** The tiny preset's sizes (300 text ids); weights ×4. */
    static DallePrior tinyModel(NDManager manager) {
        DallePrior prior = new DallePrior(manager, PriorConfig.tiny(300, 0), 3);
        scaleWeights(prior, 4);
        return prior;
    }

    private static void scaleWeights(DallePrior prior, float factor) {
        prior.parameters().forEach((name, p) -> {
            if (name.endsWith("weight")) {
                p.array().muli(factor);
            }
        });
    }

    @Test
    void everyPathDrawsTodaysCodesForAMixedBatchAndForEachCandidateAlone() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = smallModel(manager);
            ImageSampler sampler = new ImageSampler(prior);
            List<CandidateSpec> specs = mixedBatch(prior.config());
            String want = codes(List.of(SMALL_CODES));
            for (ImageSampler.Path path : ImageSampler.Path.values()) {
                assertEquals(want, codes(sampler.sample(specs, path)), path + ", the batch of " + specs.size());
            }
            for (int i = 0; i < specs.size(); i++) {
                assertEquals(Arrays.toString(SMALL_CODES[i]),
                        Arrays.toString(sampler.sample(List.of(specs.get(i)), ImageSampler.Path.FAST).get(0)), "candidate " + i + " alone");
            }
        }
    }

    @Test
    void theTinyShapedModelDrawsTodaysCodesOnTheCachedPaths() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = tinyModel(manager);
            ImageSampler sampler = new ImageSampler(prior);
            for (ImageSampler.Path path : List.of(ImageSampler.Path.KV_CACHE, ImageSampler.Path.FAST)) {
                List<int[]> out = sampler.sample(mixedBatch(prior.config()), path);
                assertEquals(Arrays.toString(TINY_GREEDY), Arrays.toString(out.get(2)), path + ": the greedy candidate");
                assertEquals(TINY_CODES_HASH, codes(out).hashCode(), path + ": all 7 candidates\n" + codes(out));
            }
        }
    }
}
