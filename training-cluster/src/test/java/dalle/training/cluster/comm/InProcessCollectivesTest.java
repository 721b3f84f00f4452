package dalle.training.cluster.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class InProcessCollectivesTest {

    /** Sizes below, at and above the world size, divisible by it or not, and one over several broadcast pieces. */
    private static final int[] SIZES = {0, 1, 3, 7, 64, 1031, 2 * RingCollectives.PIECE + 5};

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allReduceSumEqualsTheRingOrderReferenceBitForBitOnEveryRank(int w) {
        for (int n : SIZES) {
            float[][] xs = inputs(w, n, 1);
            float[] expected = RingReference.ringSum(xs);
            double[] exact = RingReference.exactSum(xs);
            List<float[]> got = InProcessCollectives.runOnThreads(w, c -> {
                float[] x = xs[c.rank()].clone();
                c.allReduceSum(x);
                return x;
            });
            for (int r = 0; r < w; r++) {
                assertArrayEquals(expected, got.get(r), "w=" + w + " n=" + n + " rank " + r);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(exact[i], expected[i], 1e-3 + 1e-6 * Math.abs(exact[i]), "reference is a sum at " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allReduceMeanIsTheSumDividedByTheWorldSize(int w) {
        float[][] xs = inputs(w, 1031, 2);
        float[] sum = RingReference.ringSum(xs);
        List<float[]> got = InProcessCollectives.runOnThreads(w, c -> {
            float[] x = xs[c.rank()].clone();
            c.allReduceMean(x);
            return x;
        });
        for (int i = 0; i < sum.length; i++) {
            assertEquals(sum[i] / w, got.get(w - 1)[i], 0f);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void reduceScatterReturnsEachRanksChunkOfTheSumAndLeavesTheInputAlone(int w) {
        for (int n : SIZES) {
            float[][] xs = inputs(w, n, 3);
            float[] sum = RingReference.ringSum(xs);
            List<float[]> got = InProcessCollectives.runOnThreads(w, c -> {
                float[] x = xs[c.rank()].clone();
                float[] shard = c.reduceScatter(x);
                assertArrayEquals(xs[c.rank()], x, "input untouched");
                return shard;
            });
            for (int r = 0; r < w; r++) {
                int from = Chunks.start(n, w, r);
                assertArrayEquals(Arrays.copyOfRange(sum, from, from + Chunks.size(n, w, r)), got.get(r),
                        "w=" + w + " n=" + n + " rank " + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allGatherConcatenatesTheShardsInRankOrder(int w) {
        for (int n : SIZES) {
            float[] whole = RingReference.input(4, 0, n);
            List<float[]> got = InProcessCollectives.runOnThreads(w, c -> {
                int from = Chunks.start(n, w, c.rank());
                return c.allGather(Arrays.copyOfRange(whole, from, from + Chunks.size(n, w, c.rank())), n);
            });
            got.forEach(g -> assertArrayEquals(whole, g, "w=" + w + " n=" + n));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void broadcastCopiesTheRootsDataToEveryRank(int w) {
        for (int n : SIZES) {
            for (int root = 0; root < w; root++) {
                int theRoot = root;
                float[][] xs = inputs(w, n, 5);
                List<float[]> got = InProcessCollectives.runOnThreads(w, c -> {
                    float[] x = xs[c.rank()].clone();
                    c.broadcast(x, theRoot);
                    return x;
                });
                got.forEach(g -> assertArrayEquals(xs[theRoot], g, "w=" + w + " n=" + n + " root " + theRoot));
            }
        }
    }

    @Test
    void ndArrayConveniencesKeepShapeAndDtypeAndMatchTheFloatPath() {
        float[][] xs = inputs(3, 12, 6);
        float[] sum = RingReference.ringSum(xs);
        List<float[][]> got = InProcessCollectives.runOnThreads(3, c -> {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = m.create(xs[c.rank()], new Shape(3, 4));
                NDArray s = c.allReduceSum(x);
                NDArray mean = c.allReduceMean(x);
                NDArray half = c.broadcast(x.toType(DataType.FLOAT16, false), 1);
                assertEquals(x.getShape(), s.getShape());
                assertEquals(DataType.FLOAT16, half.getDataType());
                return new float[][] {s.toFloatArray(), mean.toFloatArray(),
                        half.toType(DataType.FLOAT32, false).toFloatArray()};
            }
        });
        for (float[][] g : got) {
            assertArrayEquals(sum, g[0]);
            for (int i = 0; i < sum.length; i++) {
                assertEquals(sum[i] / 3, g[1][i], 0f);
                assertEquals(xs[1][i], g[2][i], Math.abs(xs[1][i]) * 1e-3f, "fp16 round trip of the root's data");
            }
        }
    }

    @Test
    void barrierReleasesNoRankBeforeTheLastArrives() {
        long[] released = new long[4];
        long[] arrived = new long[4];
        InProcessCollectives.runOnThreads(4, c -> {
            sleep(40L * c.rank());
            arrived[c.rank()] = System.nanoTime();
            c.barrier();
            released[c.rank()] = System.nanoTime();
            return null;
        });
        long lastArrival = Arrays.stream(arrived).max().orElseThrow();
        for (long t : released) {
            assertTrue(t >= lastArrival, "a rank left the barrier before the last one arrived");
        }
    }

    @Test
    void machinesSplitIntoShardAndReplicaGroupsThatReduceIndependently() {
        // 2 machines × 2 GPUs: world rank m·2 + g
        List<float[]> got = InProcessCollectives.runOnThreads(4, c -> {
            Groups g = Groups.machines(c, 2);
            float[] inShard = {c.rank()};
            g.shard().allReduceSum(inShard);
            float[] inReplica = {c.rank()};
            g.replica().allReduceSum(inReplica);
            return new float[] {g.shard().rank(), g.shard().worldSize(), inShard[0], g.replica().rank(), inReplica[0]};
        });
        assertArrayEquals(new float[] {0, 2, 0 + 1, 0, 0 + 2}, got.get(0));
        assertArrayEquals(new float[] {1, 2, 0 + 1, 0, 1 + 3}, got.get(1));
        assertArrayEquals(new float[] {0, 2, 2 + 3, 1, 0 + 2}, got.get(2));
        assertArrayEquals(new float[] {1, 2, 2 + 3, 1, 1 + 3}, got.get(3));
    }

    @Test
    void splitOrdersMembersByKey() {
        List<Integer> ranks = InProcessCollectives.runOnThreads(3, c -> c.split(0, 10 - c.rank()).rank());
        assertEquals(List.of(2, 1, 0), ranks);
    }

    @Test
    void mismatchedLengthsNameThePeer() {
        CollectiveException e = assertThrows(CollectiveException.class, () -> InProcessCollectives.runOnThreads(2,
                c -> {
                    c.broadcast(new float[c.rank() == 0 ? 4 : 5], 0);
                    return null;
                }));
        assertTrue(e.getMessage().contains("rank 1 of group 'world': expected 5 floats from rank 0, got 4"), e.getMessage());
    }

    @Test
    void aSilentPeerIsReportedByRankAfterTheTimeout() {
        List<Collectives> world = InProcessCollectives.world(2, Duration.ofMillis(200));
        CollectiveException e = assertThrows(CollectiveException.class, () -> world.get(1).broadcast(new float[3], 0));
        assertTrue(e.getMessage().contains("nothing from rank 0 within 200 ms"), e.getMessage());
    }

    private static float[][] inputs(int w, int n, long seed) {
        float[][] xs = new float[w][];
        for (int r = 0; r < w; r++) {
            xs[r] = RingReference.input(seed, r, n);
        }
        return xs;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
