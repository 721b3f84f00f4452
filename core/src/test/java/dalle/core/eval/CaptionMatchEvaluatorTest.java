package dalle.core.eval;

import dalle.core.bundle.TestBundles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.ModelBundle;
import dalle.core.data.shapes.CaptionParser;
import dalle.core.data.shapes.EvalSet;
import dalle.core.data.shapes.Verdict;
import dalle.core.eval.EvalReport.CaptionResult;
import dalle.core.eval.EvalReport.Pick;
import dalle.core.eval.EvalReport.SetResult;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionMatchEvaluatorTest {

    @TempDir static Path root;
    static Path bundleDir;

    @BeforeAll
    static void bundle() throws Exception {
        bundleDir = root.resolve("bundle");
        TestBundles.write(bundleDir);
    }

    static List<Verdict> verdicts(String caption, boolean... matches) {
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < matches.length; i++) {
            out.add(new Verdict(matches[i], (matches[i] ? "matches " : "differs ") + i, CaptionParser.parse(caption),
                    List.of()));
        }
        return out;
    }

    @Test
    void theFirstNCandidatesOfALargerRunAreTheNCandidateRun() {
        try (ModelBundle bundle = ModelBundle.load(bundleDir)) {
            Pipeline pipeline = new Pipeline(bundle);
            int[] text = pipeline.tokenize("a red circle above a blue square");
            List<int[]> eight = pipeline.sample(text, 8, 0, 42, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
            List<int[]> three = pipeline.sample(text, 3, 0, 42, SamplingParams.DEFAULT, Pipeline.Progress.NONE);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(three.get(i), eight.get(i), "candidate " + i);
            }

            CaptionMatchEvaluator evaluator = new CaptionMatchEvaluator(pipeline);
            EvalOptions small = new EvalOptions(1, List.of(1, 2, 4), 0, SamplingParams.DEFAULT, 0);
            EvalOptions large = new EvalOptions(1, List.of(1, 2, 4, 8), 0, SamplingParams.DEFAULT, 0);
            CaptionResult a = evaluator.evaluateCaption("a green triangle", 9, small);
            CaptionResult b = evaluator.evaluateCaption("a green triangle", 9, large);
            assertEquals(4, a.scores().size());
            assertEquals(8, b.scores().size());
            assertEquals(a.scores(), b.scores().subList(0, 4), "the first four candidates are scored the same");
            assertEquals(a.picks(), b.picks().subList(0, 3), "N = 1, 2, 4 keep the same candidates either way");
        }
    }

    @Test
    void accuracyAtNIsTheOracleVerdictOnTheBestOfTheFirstNScores() {
        // Given scores and verdicts for eight candidates of two captions
        String caption = "a red circle";
        List<Integer> ns = List.of(1, 2, 4, 8);
        float[] scores = {0.1f, 0.5f, 0.3f, 0.9f, 0.2f, 0.95f, 0.0f, 0.4f};
        CaptionResult mixed = CaptionMatchEvaluator.rerank(caption, 1, scores,
                verdicts(caption, false, true, false, false, true, false, false, true), ns);
        CaptionResult none = CaptionMatchEvaluator.rerank(caption, 2, new float[] {3, 3, 1, 3, 2, 2, 2, 2},
                verdicts(caption, false, false, false, false, false, false, false, false), ns);

        // Then the kept candidate at N is the best of candidates 0..N-1, ties to the lower index
        assertEquals(List.of(0, 1, 3, 5), mixed.picks().stream().map(Pick::candidate).toList());
        assertEquals(List.of(false, true, false, false), mixed.picks().stream().map(Pick::matches).toList());
        assertEquals("matches 1", mixed.picks().get(1).reason());
        assertEquals(0.95f, mixed.picks().get(3).score());
        assertEquals(List.of(0, 0, 0, 0), none.picks().stream().map(Pick::candidate).toList());
        assertEquals(List.of(1, 4, 7), mixed.matching());
        assertFalse(mixed.oracleBest(1));
        assertTrue(mixed.oracleBest(2));
        assertEquals(3 / 8.0, mixed.matchFraction());

        // And the set's numbers follow exactly
        SetResult set = new SetResult(EvalSet.SINGLE_SEEN, ns, List.of(mixed, none));
        assertEquals(0.0, set.accuracy(0));
        assertEquals(0.5, set.accuracy(1));
        assertEquals(0.0, set.accuracy(2));
        assertEquals(0.0, set.accuracy(3));
        assertEquals(0.0, set.oracleBest(0));
        assertEquals(0.5, set.oracleBest(1));
        assertEquals(0.5, set.oracleBest(3));
        assertEquals((3 / 8.0 + 0) / 2, set.rawAccuracy());
    }

    @Test
    void rerankRefusesTooFewCandidatesOrMismatchedVerdicts() {
        String caption = "a red circle";
        assertThrows(IllegalArgumentException.class, () -> CaptionMatchEvaluator.rerank(caption, 0,
                new float[] {1, 2}, verdicts(caption, true, false), List.of(1, 4)));
        assertThrows(IllegalArgumentException.class, () -> CaptionMatchEvaluator.rerank(caption, 0,
                new float[] {1, 2}, verdicts(caption, true), List.of(1, 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EvalOptions(4, List.of(4, 2), 0, SamplingParams.DEFAULT, 0));
        assertTrue(e.getMessage().startsWith("n: sizes must be strictly increasing"), e.getMessage());
    }

    @Test
    void captionSeedsDifferAcrossSetsAndIndices() {
        long a = CaptionMatchEvaluator.captionSeed(0, EvalSet.SINGLE_SEEN, 0);
        assertEquals(a, CaptionMatchEvaluator.captionSeed(0, EvalSet.SINGLE_SEEN, 0));
        assertTrue(a != CaptionMatchEvaluator.captionSeed(0, EvalSet.SINGLE_SEEN, 1));
        assertTrue(a != CaptionMatchEvaluator.captionSeed(0, EvalSet.SINGLE_HELD_OUT, 0));
        assertTrue(a != CaptionMatchEvaluator.captionSeed(1, EvalSet.SINGLE_SEEN, 0));
    }
}
