package dalle.core.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.transformer.DallePrior;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching against today's codes: the golden mixed batch's candidates join a running batch one group at
 * a time, at staggered steps, so that every candidate shares its steps with groups joining and leaving around it,
 * and each still draws its golden codes ({@link SamplingGoldenTest}: the codes of the batch and of each candidate
 * alone).
 */
class ContinuousBatchTest {

    @Test
    void candidatesJoiningAndLeavingARunningBatchDrawTheirGoldenCodes() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = SamplingGoldenTest.smallModel(manager);
            List<CandidateSpec> specs = SamplingGoldenTest.mixedBatch(prior.config());
            // groups {0, 1}, {2}, {3, 4, 5}, {6} join at steps 0, 3, 7, 18 (16 tokens each: the first has left by then)
            int[][] groups = {{0, 1}, {2}, {3, 4, 5}, {6}};
            int[] joinAt = {0, 3, 7, 18};
            List<int[]> got = sampleStaggered(prior, specs, groups, joinAt);
            assertEquals(SamplingGoldenTest.codes(List.of(SamplingGoldenTest.SMALL_CODES)), SamplingGoldenTest.codes(got));
        }
    }

    @Test
    void theTinyShapedModelDrawsTodaysCodesWithGroupsJoiningAndLeaving() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = SamplingGoldenTest.tinyModel(manager);
            List<CandidateSpec> specs = SamplingGoldenTest.mixedBatch(prior.config());
            int[][] groups = {{2, 5}, {0}, {1, 3, 4}, {6}};
            int[] joinAt = {0, 1, 30, 70};
            List<int[]> got = sampleStaggered(prior, specs, groups, joinAt);
            assertEquals(SamplingGoldenTest.TINY_CODES_HASH, SamplingGoldenTest.codes(got).hashCode(),
                    SamplingGoldenTest.codes(got));
        }
    }

    @Test
    void aGroupThatLeavesEarlyStopsDrawingAndTheOthersDrawTheirGoldenCodes() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DallePrior prior = SamplingGoldenTest.smallModel(manager);
            List<CandidateSpec> specs = SamplingGoldenTest.mixedBatch(prior.config());
            ContinuousBatch batch = new ContinuousBatch(prior);
            ContinuousBatch.Group kept = batch.join(specs.subList(0, 2));
            ContinuousBatch.Group left = batch.join(specs.subList(2, 3));
            batch.step();
            batch.step();
            batch.leave(left);
            assertEquals(2, batch.candidates());
            assertEquals(List.of(kept), batch.groups());
            assertEquals(3, left.drawn(), "a group that left draws no more");
            assertThrows(IllegalArgumentException.class, () -> batch.leave(left));
            while (!kept.done()) {
                batch.step();
            }
            assertEquals(3, left.drawn());
            assertThrows(IllegalStateException.class, left::codes);
            List<int[]> golden = List.of(SamplingGoldenTest.SMALL_CODES);
            assertEquals(SamplingGoldenTest.codes(golden.subList(0, 2)), SamplingGoldenTest.codes(kept.codes()));
            batch.close();
        }
    }

    @Test
    void anEmptyBatchRefusesAStepAndAJoinWithoutCandidates() {
        try (NDManager manager = NDManager.newBaseManager();
                ContinuousBatch batch = new ContinuousBatch(SamplingGoldenTest.smallModel(manager))) {
            assertThrows(IllegalStateException.class, batch::step);
            assertThrows(IllegalArgumentException.class, () -> batch.join(List.of()));
        }
    }

    /** Joins group g's specs at step joinAt[g] and steps until every group is done; codes in the order of specs. */
    private static List<int[]> sampleStaggered(DallePrior prior, List<CandidateSpec> specs, int[][] groups, int[] joinAt) {
        Map<ContinuousBatch.Group, int[]> members = new HashMap<>();
        int[][] out = new int[specs.size()][];
        int done = 0;
        int overlapped = 0;
        try (ContinuousBatch batch = new ContinuousBatch(prior)) {
            for (int clock = 0; done < groups.length; clock++) {
                for (int g = 0; g < groups.length; g++) {
                    if (joinAt[g] == clock) {
                        List<CandidateSpec> mine = new ArrayList<>();
                        for (int i : groups[g]) {
                            mine.add(specs.get(i));
                        }
                        members.put(batch.join(mine), groups[g]);
                    }
                }
                overlapped = Math.max(overlapped, batch.groups().size());
                for (ContinuousBatch.Group finished : batch.step()) {
                    int[] idx = members.get(finished);
                    for (int j = 0; j < idx.length; j++) {
                        out[idx[j]] = finished.codes().get(j);
                    }
                    done++;
                }
            }
            assertEquals(0, batch.candidates());
        }
        assertTrue(overlapped >= 3, "at least three groups shared steps, got " + overlapped);
        return Arrays.asList(out);
    }
}
