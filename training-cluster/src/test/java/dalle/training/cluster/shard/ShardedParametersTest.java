package dalle.training.cluster.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.core.nn.AdamW;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ShardedParametersTest {

    private static final int WORKERS = 4;
    private static final int BATCH = 8; // 2 rows per worker
    private static final int STEPS = 6;
    private static final float LR = 0.02f;
    private static final float WD = 0.1f;

    /** Two linear layers whose parameter sizes (35, 7, 21, 3) are none divisible by 4: every shard pads. */
    static final class TinyMlp extends Module {
        final Linear fc;
        final Linear out;

        TinyMlp(NDManager manager, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            fc = child("fc", new Linear(manager, rng, 5, 7, true, Parameter.Kind.WEIGHT, 0.5f));
            out = child("out", new Linear(manager, rng, 7, 3, true, Parameter.Kind.WEIGHT, 0.5f));
        }

        /** (B, 5) -> (B, 3). */
        NDArray forward(NDArray x) {
            return out.forward(fc.forward(x).tanh());
        }
    }

    /**
     * The engine starts on this (JUnit's) thread, whichever test runs first: DJL switches autograd off on the
     * thread that starts libtorch, and every other thread begins with libtorch's default (on), under which the
     * single-worker AdamW's in-place updates of leaf weights are refused.
     */
    @BeforeAll
    static void startTheEngineOnTheTestThread() {
        Engine.getInstance();
    }

    /** DJL allows one GradientCollector at a time per JVM: the worker threads take turns at backward. */
    private static final ReentrantLock BACKWARD = new ReentrantLock();

    @Test
    void shardedAdamWOnFourWorkersTracksSingleWorkerAdamWOnTheWholeBatch() {
        float[] xs = data(BATCH * 5, 1);
        float[] ys = data(BATCH * 3, 2);

        // single worker, whole batch
        List<Float> expectedLoss = new ArrayList<>();
        Map<String, float[]> expectedWeights = new LinkedHashMap<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp model = new TinyMlp(manager, 7);
            model.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, model.parameters(), 0.9f, 0.96f, 1e-8f, WD);
            for (int i = 0; i < STEPS; i++) {
                expectedLoss.add(lossAndBackward(manager, model, xs, ys, 0, BATCH));
                opt.step(LR);
            }
            model.parameters().forEach((n, p) -> expectedWeights.put(n, p.array().toFloatArray()));
        }

        // four workers, two rows each
        List<Object[]> workers = InProcessCollectives.runOnThreads(WORKERS, group -> {
            try (NDManager manager = NDManager.newBaseManager()) {
                TinyMlp model = new TinyMlp(manager, 7);
                ShardedParameters sharded = new ShardedParameters(group, manager, model.parameters(), 0.9f, 0.96f, 1e-8f, WD);
                List<Float> losses = new ArrayList<>();
                int rows = BATCH / WORKERS;
                for (int i = 0; i < STEPS; i++) {
                    sharded.gatherAll();
                    float local;
                    BACKWARD.lock();
                    try {
                        local = lossAndBackward(manager, model, xs, ys, group.rank() * rows, rows);
                    } finally {
                        BACKWARD.unlock();
                    }
                    sharded.reduceScatterAllGradients();
                    sharded.step(LR);
                    float[] mean = {local};
                    group.allReduceMean(mean);
                    losses.add(mean[0]);
                }
                Map<String, float[]> weights = new LinkedHashMap<>();
                model.parameters().keySet().forEach(n -> weights.put(n, sharded.gatherValue(n)));
                return new Object[] {losses, weights, sharded.shardElements()};
            }
        });

        for (Object[] w : workers) {
            @SuppressWarnings("unchecked") List<Float> losses = (List<Float>) w[0];
            for (int i = 0; i < STEPS; i++) {
                assertEquals(expectedLoss.get(i), losses.get(i), 1e-4 * Math.abs(expectedLoss.get(i)), "loss at step " + i);
            }
            @SuppressWarnings("unchecked") Map<String, float[]> weights = (Map<String, float[]>) w[1];
            expectedWeights.forEach((n, e) -> assertArrayEquals(e, weights.get(n), 1e-5f, n));
            assertEquals(9 + 2 + 6 + 1, (long) w[2], "each worker owns ceil(size/4) of every parameter");
        }
        // the losses moved: the comparison is not between two frozen models
        assertTrue(expectedLoss.get(STEPS - 1) < 0.9 * expectedLoss.get(0), expectedLoss.toString());
    }

    @Test
    void gatherRestoresTheInitialValuesExactlyAndReleaseKeepsOnlyTheShapes() {
        float[] initial;
        try (NDManager manager = NDManager.newBaseManager()) {
            initial = new TinyMlp(manager, 3).fc.weight().array().toFloatArray();
        }
        List<float[]> gathered = InProcessCollectives.runOnThreads(3, group -> {
            try (NDManager manager = NDManager.newBaseManager()) {
                TinyMlp model = new TinyMlp(manager, 3);
                ShardedParameters sharded = new ShardedParameters(group, manager, model.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
                assertEquals(new Shape(7, 5), model.fc.weight().array().getShape(), "released, same shape");
                assertEquals(0f, model.fc.weight().array().abs().sum().getFloat(), "released value is zero");
                sharded.gather(List.of(model.fc.weight()));
                return model.fc.weight().array().toFloatArray();
            }
        });
        gathered.forEach(g -> assertArrayEquals(initial, g, 0f));
    }

    @Test
    void oneReduceScatterForAllParametersEqualsOnePerParameterBitForBit() {
        // Given three workers with different batches, so that every gradient element is a real three-way sum
        float[] xs = data(6 * 5, 4);
        float[] ys = data(6 * 3, 5);
        List<List<float[]>> byWay = new ArrayList<>();
        for (boolean together : new boolean[] {true, false}) {
            // When the gradients are reduce-scattered all in one bucket, or parameter by parameter
            List<List<float[]>> perRank = InProcessCollectives.runOnThreads(3, group -> {
                try (NDManager manager = NDManager.newBaseManager()) {
                    TinyMlp model = new TinyMlp(manager, 9);
                    ShardedParameters sharded = new ShardedParameters(group, manager, model.parameters(), 0.9f, 0.96f,
                            1e-8f, 0f);
                    sharded.gatherAll();
                    BACKWARD.lock();
                    try {
                        lossAndBackward(manager, model, xs, ys, 2 * group.rank(), 2);
                    } finally {
                        BACKWARD.unlock();
                    }
                    if (together) {
                        sharded.reduceScatterAllGradients();
                    } else {
                        for (Parameter p : model.parameters().values()) {
                            sharded.reduceScatterGradients(List.of(p));
                        }
                    }
                    List<float[]> grads = new ArrayList<>();
                    sharded.views().forEach(v -> grads.add(v.grad().clone()));
                    return grads;
                }
            });
            List<float[]> flat = new ArrayList<>();
            perRank.forEach(flat::addAll);
            byWay.add(flat);
        }
        // Then every shard's gradient has the same bits
        for (int i = 0; i < byWay.get(0).size(); i++) {
            float[] together = byWay.get(0).get(i);
            float[] apart = byWay.get(1).get(i);
            for (int j = 0; j < together.length; j++) {
                assertEquals(Float.floatToRawIntBits(apart[j]), Float.floatToRawIntBits(together[j]),
                        "shard " + i + " element " + j);
            }
        }
        assertTrue(byWay.get(0).stream().anyMatch(g -> g.length > 0 && g[0] != 0f), "the gradients are not all zero");
    }

    @Test
    void reduceScatteringAParameterThatIsNotGatheredFailsByName() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> InProcessCollectives.runOnThreads(1, group -> {
            try (NDManager manager = NDManager.newBaseManager()) {
                TinyMlp model = new TinyMlp(manager, 3);
                ShardedParameters sharded = new ShardedParameters(group, manager, model.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
                sharded.reduceScatterGradients(List.of(model.out.weight()));
                return null;
            }
        }));
        assertEquals("parameter out.weight is not gathered: no gradient to reduce", e.getMessage());
    }

    /** Mean squared error of rows [from, from+rows); runs backward, returns the loss. */
    private static float lossAndBackward(NDManager manager, TinyMlp model, float[] xs, float[] ys, int from, int rows) {
        try (NDManager step = manager.newSubManager();
             GradientCollector gc = manager.getEngine().newGradientCollector()) {
            NDArray x = step.create(Arrays.copyOfRange(xs, from * 5, (from + rows) * 5), new Shape(rows, 5));
            NDArray y = step.create(Arrays.copyOfRange(ys, from * 3, (from + rows) * 3), new Shape(rows, 3));
            NDArray loss = model.forward(x).sub(y).square().mean();
            gc.backward(loss);
            float value = loss.getFloat();
            loss.attach(step);
            return value;
        }
    }

    private static float[] data(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) Module.gaussian(rng);
        }
        return out;
    }
}
