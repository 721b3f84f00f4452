package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.types.Shape;
import dalle.core.nn.Parameter;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The global norm of a gradient sharded over two workers, and the clip applied to the shards. */
class ShardClippingTest {

    private static ShardView shard(float... grad) {
        return new ShardView("w", Parameter.Kind.WEIGHT, new Shape(4), 4, 0, new float[grad.length],
                new float[grad.length], new float[grad.length], grad);
    }

    @Test
    void theNormSpansEveryShardAndTheClipScalesEachDownToTheLimit() {
        // Given the gradient (3, 4, 0, 12) of norm 13, rank 0 holding (3, 4) and rank 1 (0, 12)
        List<float[]> clipped = InProcessCollectives.runOnThreads(2, c -> {
            ShardView mine = c.rank() == 0 ? shard(3f, 4f) : shard(0f, 12f);
            double norm = ShardClipping.globalNorm(List.of(mine), c);
            assertEquals(13.0, norm, 1e-6);
            // When it is clipped at 6.5, and again at 20 (above the norm: untouched)
            ShardClipping.clip(List.of(mine), norm, 6.5f);
            float[] atHalf = mine.grad().clone();
            ShardClipping.clip(List.of(mine), 6.5, 20f);
            assertArrayEquals(atHalf, mine.grad(), "a norm below the limit is not clipped");
            return atHalf;
        });
        // Then every shard is halved, as core's rule says (max / norm = 0.5)
        assertArrayEquals(new float[] {1.5f, 2f}, clipped.get(0));
        assertArrayEquals(new float[] {0f, 6f}, clipped.get(1));
    }
}
