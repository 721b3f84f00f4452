package dalle.training.cluster.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.nn.Parameter;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingPlanTest {

    private final TrainingPlan paper = new TrainingPlan(PriorConfig.paper(), 128, 8, 896);

    @Test
    void theTensorListIsTheRealPriorsParameterList() {
        PriorConfig tiny = PriorConfig.tiny(300, 0);
        Map<String, String> real = new LinkedHashMap<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            new DallePrior(manager, tiny, 1).parameters().forEach((name, p) -> real.put(name,
                    p.kind() + " " + p.array().getShape().size()
                            + " " + p.array().getShape().get(0)));
        }
        Map<String, String> listed = new LinkedHashMap<>();
        for (PriorTensors.Tensor t : PriorTensors.of(tiny)) {
            listed.put(t.name(), t.kind() + " " + t.size() + " " + t.rows());
        }
        assertEquals(List.copyOf(real.entrySet()), List.copyOf(listed.entrySet()));
    }

    @Test
    void paperParameterCountMatchesTheConfigsCount() {
        assertEquals(PriorConfig.paper().parameterCount(), paper.parameterCount());
        assertTrue(paper.parameterCount() > 11_500_000_000L && paper.parameterCount() < 12_500_000_000L);
    }

    @Test
    void powerSgdRateAtRank896LandsNearThePapers86Percent() {
        assertEquals(1 - 5.0 * 896 / (8 * 3968), paper.formulaRate(), 1e-12);
        assertEquals(0.86, paper.formulaRate(), 0.005);
        // counting q, k, v as separate d×d matrices reproduces the formula exactly
        assertEquals(paper.formulaRate(), paper.paperAccountingRate(), 1e-12);
        // our fused qkv projection shares one P between q, k and v: fewer bytes, a higher rate
        assertTrue(paper.matrixRate() > paper.formulaRate() && paper.matrixRate() < 0.91, "" + paper.matrixRate());
        // all gradient bytes, fp32 embeddings etc. sent uncompressed
        assertEquals(0.86, paper.overallByteRate(), 0.015);
    }

    @Test
    void perGpuBytesAreAnEighthOfTheModelAtTheStatedPrecisions() {
        TrainingPlan.Bytes b = paper.perGpu();
        long fp16 = PriorTensors.of(PriorConfig.paper()).stream().filter(PriorTensors.Tensor::resblockMatrix)
                .mapToLong(PriorTensors.Tensor::size).sum();
        long fp32 = paper.parameterCount() - fp16;
        assertEquals((2 * fp16 + 4 * fp32) / 8.0, b.parameters(), 1e4);
        assertEquals(b.parameters(), b.gradients());
        assertEquals((4 * fp16 + 8 * fp32) / 8.0, b.adamMoments(), 1e4);
        assertEquals(4 * fp16 / 8.0, b.fp32Master(), 1e4);
        // the paper: ~24 GB of 16-bit weights need sharding on 16 GB GPUs; one GPU's shard is ~3 GB
        assertTrue(b.parameters() > 3.0e9 && b.parameters() < 3.3e9, "" + b.parameters());
    }

    @Test
    void aRankThatDoesNotSplitAmongTheGpusIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrainingPlan(PriorConfig.paper(), 128, 8, 900));
        assertTrue(e.getMessage().startsWith("PowerSGD rank 900 is not divisible by 8 GPUs per machine"), e.getMessage());
    }
}
