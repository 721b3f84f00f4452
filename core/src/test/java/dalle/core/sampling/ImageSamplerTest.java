package dalle.core.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ImageSamplerTest {

    /** 6 text slots over 50 ids (pad 0), a 4×4 grid over 16 codes, width 32, 2 heads, layers ROW, COLUMN, CONV. */
    private static final PriorConfig SMALL = new PriorConfig(50, 6, 0, 16, 4, 32, 2, 3, 3, 4);
    private static final int[] CAPTION = {12, 7, 33, 0, 0, 0};
    private static final int[] OTHER_CAPTION = {4, 41, 9, 18, 2, 0};

    private static NDManager manager;
    private static ImageSampler sampler;

    @BeforeAll
    static void model() {
        manager = NDManager.newBaseManager();
        // a larger init than training would use, so that the random model's distributions are far from uniform
        DallePrior prior = new DallePrior(manager, SMALL, 5);
        prior.parameters().forEach((name, p) -> {
            if (name.endsWith("weight")) {
                p.array().muli(8);
            }
        });
        sampler = new ImageSampler(prior);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static List<CandidateSpec> candidates(int[] text, long seed, int count, SamplingParams params) {
        List<CandidateSpec> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new CandidateSpec(text, seed, i, params));
        }
        return out;
    }

    private static void assertSameCodes(List<int[]> want, List<int[]> got) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertArrayEquals(want.get(i), got.get(i), "candidate " + i);
        }
    }

    @Test
    void kvCacheGivesTheSameTokensAsRecomputationWhenGreedy() {
        List<CandidateSpec> specs = List.of(
                new CandidateSpec(CAPTION, 1, 0, SamplingParams.greedy()),
                new CandidateSpec(OTHER_CAPTION, 1, 0, SamplingParams.greedy()));
        List<int[]> cached = sampler.sample(specs, true);
        assertSameCodes(sampler.sample(specs, false), cached);
        assertFalse(Arrays.equals(cached.get(0), cached.get(1)), "different captions, different greedy images");
    }

    @Test
    void kvCacheGivesTheSameTokensAsRecomputationWithSeededTemperature() {
        List<CandidateSpec> specs = new ArrayList<>(candidates(CAPTION, 17, 3, SamplingParams.DEFAULT));
        specs.add(new CandidateSpec(OTHER_CAPTION, 18, 0, new SamplingParams(0.8f, 6, 0.9f, 3f)));
        assertSameCodes(sampler.sample(specs, false), sampler.sample(specs, true));
    }

    @Test
    void aCandidateDoesNotDependOnTheBatchItIsSampledIn() {
        SamplingParams params = new SamplingParams(1f, 0, 1f, 1f);
        List<CandidateSpec> ours = candidates(CAPTION, 123, 8, params);
        List<int[]> alone = new ArrayList<>();
        for (CandidateSpec s : ours) {
            alone.add(sampler.sample(List.of(s), true).get(0));
        }
        // the 8 together
        assertSameCodes(alone, sampler.sample(ours, true));
        // the 8 spread through a batch of 32 shared with other requests (other seeds, captions, params, guidance)
        List<CandidateSpec> mixed = new ArrayList<>();
        List<Integer> where = new ArrayList<>();
        int o = 0;
        for (int i = 0; i < 32; i++) {
            if (i % 4 == 1 && o < ours.size()) {
                where.add(mixed.size());
                mixed.add(ours.get(o++));
            } else {
                SamplingParams other = i % 3 == 0 ? new SamplingParams(0.7f, 5, 1f, 2f) : new SamplingParams(1.2f, 0, 0.9f, 1f);
                mixed.add(new CandidateSpec(i % 2 == 0 ? OTHER_CAPTION : CAPTION, 900 + i, i, other));
            }
        }
        List<int[]> shared = sampler.sample(mixed, true);
        for (int i = 0; i < ours.size(); i++) {
            assertArrayEquals(alone.get(i), shared.get(where.get(i)), "candidate " + i + " in the batch of 32");
        }
        // and candidates of one seed differ from each other
        assertTrue(alone.stream().map(Arrays::toString).distinct().count() > 1);
    }

    @Test
    void guidedCandidateDoesNotDependOnTheBatchEither() {
        CandidateSpec guided = new CandidateSpec(CAPTION, 77, 2, new SamplingParams(1f, 0, 1f, 3f));
        int[] alone = sampler.sample(List.of(guided), true).get(0);
        List<CandidateSpec> batch = new ArrayList<>(candidates(OTHER_CAPTION, 5, 6, SamplingParams.DEFAULT));
        batch.add(3, guided);
        assertArrayEquals(alone, sampler.sample(batch, true).get(3));
        assertArrayEquals(alone, sampler.sample(List.of(guided), false).get(0));
    }

    @Test
    void guidanceChangesWhatIsSampled() {
        CandidateSpec plain = new CandidateSpec(CAPTION, 3, 0, SamplingParams.greedy());
        CandidateSpec guided = new CandidateSpec(CAPTION, 3, 0, new SamplingParams(0f, 0, 1f, 4f));
        List<int[]> out = sampler.sample(List.of(plain, guided), true);
        assertFalse(Arrays.equals(out.get(0), out.get(1)), "guidance scale 4 moves the greedy image");
    }

    @Test
    void codesAreImageIdsAndProgressCountsEveryToken() {
        List<Integer> progress = new ArrayList<>();
        List<int[]> out = sampler.sample(candidates(CAPTION, 9, 4, new SamplingParams(1.5f, 0, 1f, 1f)), true, progress::add);
        for (int[] codes : out) {
            assertEquals(SMALL.imageTokens(), codes.length);
            for (int c : codes) {
                assertTrue(c >= 0 && c < SMALL.imageVocab(), "code " + c);
            }
        }
        List<Integer> want = new ArrayList<>();
        for (int k = 1; k <= SMALL.imageTokens(); k++) {
            want.add(k);
        }
        assertEquals(want, progress);
    }

    @Test
    void malformedCandidatesAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(List.of(new CandidateSpec(new int[5], 1, 0, SamplingParams.DEFAULT)), true));
        assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(List.of(new CandidateSpec(new int[] {50, 0, 0, 0, 0, 0}, 1, 0, SamplingParams.DEFAULT)), true));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(List.of(), true));
    }
}
