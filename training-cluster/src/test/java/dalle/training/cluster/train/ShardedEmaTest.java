package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.dvae.WeightEma;
import dalle.core.nn.Linear;
import dalle.core.nn.Parameter;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The sharded weight average against core's {@link WeightEma} on the same weights. */
class ShardedEmaTest {

    @Test
    void followsCoresWeightEmaBitForBitOnTheSameWeights() {
        // Given a layer's weight as NDArray (core) and as a float[] shard (cluster), the same values
        SplittableRandom rng = new SplittableRandom(3);
        float[] w = new float[64];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Linear layer = new Linear(manager, new SplittableRandom(1), 8, 8, false);
            layer.weight().set(manager.create(w.clone(), new Shape(8, 8)));
            WeightEma core = new WeightEma(manager, layer, 0.99f);
            ShardView shard = new ShardView("weight", Parameter.Kind.WEIGHT, new Shape(8, 8), 64, 0, w.clone(),
                    new float[64], new float[64], new float[64]);
            ShardedEma sharded = new ShardedEma(List.of(shard), 0.99f);

            // When both fold in five updates of the weights
            for (int step = 0; step < 5; step++) {
                for (int i = 0; i < w.length; i++) {
                    w[i] += 0.1f * (float) rng.nextGaussian();
                }
                layer.weight().array().set(w);
                System.arraycopy(w, 0, shard.value(), 0, w.length);
                core.update();
                sharded.update(List.of(shard));
            }

            // Then the averages agree bit for bit
            float[] expected = core.averages().get("weight").toFloatArray();
            float[] actual = sharded.average(0);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        "element " + i + ": WeightEma " + expected[i] + ", ShardedEma " + actual[i]);
            }
        }
    }

    @Test
    void aDecayOfZeroKeepsNoAverageAndADecayOfOneIsRefused() {
        ShardView shard = new ShardView("w", Parameter.Kind.WEIGHT, new Shape(2), 2, 0, new float[] {1f, 2f},
                new float[2], new float[2], new float[2]);
        ShardedEma none = new ShardedEma(List.of(shard), 0f);
        assertFalse(none.kept());
        none.update(List.of(shard));
        assertArrayEquals(new float[] {1f, 2f}, shard.value(), "the weights are never touched");
        assertThrows(IllegalStateException.class, () -> none.average(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ShardedEma(List.of(shard), 1f));
        assertEquals("EMA decay must be in [0, 1), got 1.0", e.getMessage());
    }
}
