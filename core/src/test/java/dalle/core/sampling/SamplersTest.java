package dalle.core.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SamplersTest {

    private static float[] logitsOf(double... probabilities) {
        float[] l = new float[probabilities.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probabilities[i]);
        }
        return l;
    }

    private static Set<Integer> support(Sampler s, float[] logits, int draws) {
        Set<Integer> seen = new TreeSet<>();
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < draws; i++) {
            seen.add(s.sample(logits, rng));
        }
        return seen;
    }

    @Test
    void argmaxPicksTheLargestLogitAndTheLowestIdAmongTies() {
        assertEquals(2, Samplers.ARGMAX.sample(new float[] {0.1f, -3f, 5f, 4.9f}, new SplittableRandom(1)));
        assertEquals(1, Samplers.ARGMAX.sample(new float[] {0f, 2f, 2f}, new SplittableRandom(1)));
        assertEquals(Samplers.ARGMAX, Samplers.of(SamplingParams.greedy()));
    }

    @Test
    void categoricalFollowsTheSoftmaxFrequencies() {
        float[] logits = logitsOf(0.5, 0.3, 0.2);
        int[] counts = new int[3];
        SplittableRandom rng = new SplittableRandom(3);
        int draws = 20000;
        for (int i = 0; i < draws; i++) {
            counts[Samplers.CATEGORICAL.sample(logits, rng)]++;
        }
        assertEquals(0.5, counts[0] / (double) draws, 0.02);
        assertEquals(0.3, counts[1] / (double) draws, 0.02);
        assertEquals(0.2, counts[2] / (double) draws, 0.02);
    }

    @Test
    void categoricalNeverDrawsAnExcludedToken() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f};
        assertEquals(Set.of(1, 3), support(Samplers.CATEGORICAL, logits, 500));
        assertThrows(IllegalArgumentException.class, () -> Samplers.CATEGORICAL.sample(
                new float[] {Float.NEGATIVE_INFINITY}, new SplittableRandom(1)));
    }

    @Test
    void topKNeverReturnsATokenOutsideTheTopK() {
        SplittableRandom gen = new SplittableRandom(11);
        float[] logits = new float[64];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) gen.nextDouble(-2, 2);
        }
        int k = 5;
        Integer[] ids = new Integer[logits.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        java.util.Arrays.sort(ids, (a, b) -> Float.compare(logits[b], logits[a]));
        Set<Integer> topFive = new TreeSet<>(java.util.Arrays.asList(ids).subList(0, k));
        // with temperature 3 the tail would be drawn often without the cut
        Sampler s = Samplers.temperature(3f, Samplers.topK(k, Samplers.CATEGORICAL));
        assertEquals(topFive, support(s, logits, 3000));
    }

    @Test
    void topPKeepsTheMinimalNucleus() {
        float[] logits = logitsOf(0.05, 0.5, 0.15, 0.3);
        // 0.5 alone < 0.75; 0.5 + 0.3 >= 0.75: ids 1 and 3
        assertEquals(Set.of(1, 3), support(Samplers.topP(0.75f, Samplers.CATEGORICAL), logits, 2000));
        // 0.8 < 0.85: the 0.15 token joins
        assertEquals(Set.of(1, 2, 3), support(Samplers.topP(0.85f, Samplers.CATEGORICAL), logits, 2000));
        // a small p keeps only the most likely token
        assertEquals(Set.of(1), support(Samplers.topP(0.1f, Samplers.CATEGORICAL), logits, 500));
        assertEquals(Set.of(0, 1, 2, 3), support(Samplers.topP(1f, Samplers.CATEGORICAL), logits, 2000));
    }

    @Test
    void samplersDoNotModifyTheirInput() {
        float[] logits = logitsOf(0.1, 0.2, 0.3, 0.4);
        float[] copy = logits.clone();
        Samplers.of(new SamplingParams(0.7f, 2, 0.9f, 1f)).sample(logits, new SplittableRandom(1));
        assertArrayEquals(copy, logits);
    }

    @Test
    void sameSeedGivesTheSameDraws() {
        float[] logits = logitsOf(0.1, 0.2, 0.3, 0.25, 0.15);
        Sampler s = Samplers.of(new SamplingParams(1.3f, 4, 0.95f, 1f));
        int[] a = new int[200];
        int[] b = new int[200];
        SplittableRandom r1 = new SplittableRandom(99);
        SplittableRandom r2 = new SplittableRandom(99);
        for (int i = 0; i < a.length; i++) {
            a[i] = s.sample(logits, r1);
            b[i] = s.sample(logits, r2);
        }
        assertArrayEquals(a, b);
        assertTrue(java.util.Arrays.stream(a).distinct().count() > 1, "draws vary along the stream");
    }

    @Test
    void lowTemperatureConcentratesOnTheMode() {
        float[] logits = logitsOf(0.4, 0.35, 0.25);
        assertEquals(Set.of(0), support(Samplers.temperature(0.01f, Samplers.CATEGORICAL), logits, 500));
    }

    @Test
    void invalidParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1f, 0, 1f, 1f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, -1, 1f, 1f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 0f, 1f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1.5f, 1f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> Samplers.topK(0, Samplers.CATEGORICAL));
        assertEquals(new SamplingParams(1f, 0, 1f, 1f), SamplingParams.DEFAULT);
        assertTrue(!SamplingParams.DEFAULT.guided());
    }
}
