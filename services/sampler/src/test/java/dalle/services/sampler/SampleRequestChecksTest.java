package dalle.services.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dalle.services.common.stage.FieldException;
import dalle.services.sampler.grpc.SamplerService;
import dalle.v1.ModelInfo;
import dalle.v1.SampleRequest;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** The Sample call's checks of a request against the model, before anything is queued. */
class SampleRequestChecksTest {

    private static final ModelInfo INFO = ModelInfo.newBuilder().setTextLength(4).setTextVocabSize(10)
            .setImageVocabSize(16).setGridSize(2).setImageSize(8).build();

    private static SampleRequest request(int first, int candidates) {
        return SampleRequest.newBuilder().addAllTextTokens(Collections.nCopies(4, 1)).setCandidates(candidates)
                .setFirstCandidateIndex(first).setSeed(3).build();
    }

    @Test
    void candidateIndicesPastTheLimitAreRefusedEvenWhereTheirSumWrapsAround() {
        assertEquals(2, SamplerService.specs(request(510, 2), INFO).size());
        for (int first : new int[] {-3, 511, Integer.MAX_VALUE, Integer.MAX_VALUE - 1}) {
            // Integer.MAX_VALUE + 2 wrapped to a negative sum, passed the check and failed later as INTERNAL
            FieldException e = assertThrows(FieldException.class, () -> SamplerService.specs(request(first, 2), INFO),
                    "first " + first);
            assertEquals("first_candidate_index", e.field());
            assertEquals("first_candidate_index: " + first + " + candidates 2 is outside 0..512", e.getMessage());
        }
    }
}
