package dalle.training.cluster.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.powersgd.PowerSgdConfig;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.nn.Parameter;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PowerSGD between two groups of two sharded workers, through the {@link DistributedTrainer}. */
class ShardPowerSgdTest {

    static final int WORKERS = 4;
    static final int GROUPS = 2;
    static final int STEPS = 20;
    static final int BATCH = 8;
    static final long SEED = 13;

    static BpeTokenizer tokenizer;
    static CodeCache codes;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void data() {
        tokenizer = TinyPriorRun.tokenizer();
        codes = TinyPriorRun.codes();
    }

    static DistributedRun run(int powerSgdRank) {
        return TinyPriorRun.run(tokenizer, BATCH, STEPS, SEED, WORKERS, GROUPS, 1000, 0f, "fp32", powerSgdRank);
    }

    static List<DistributedTrainer.Result> train(DistributedRun run, Path out, long until, boolean resume,
                                                 Function<Groups, Function<List<ShardView>, ReplicaExchange>> exchange) {
        return TinyPriorRun.train(run, out, until, resume, codes, tokenizer, exchange);
    }

    static List<Float> losses(DistributedTrainer.Result r) {
        return TinyPriorRun.losses(r);
    }

    @Test
    void fullRankPowerSgdBetweenTwoGroupsGivesTheExactMeansLosses() {
        DistributedRun run = run(0);
        List<Float> exact = losses(train(run, tmp.resolve("exact"), STEPS, false,
                TinyPriorRun.exact()).get(0));
        // every weight and the unembedding compressed, at a rank no smaller than any slice's side
        PowerSgdConfig full = PowerSgdConfig.paper(1000, SEED).withOnlyWhenSaving(false)
                .withCompressedKinds(EnumSet.of(Parameter.Kind.WEIGHT, Parameter.Kind.UNEMBEDDING));
        List<DistributedTrainer.Result> results = train(run, tmp.resolve("full-rank"), STEPS, false,
                g -> shards -> new ShardPowerSgd(g.replica(), full, shards));
        for (DistributedTrainer.Result r : results) {
            List<Float> curve = losses(r);
            assertEquals(STEPS, curve.size());
            for (int i = 0; i < STEPS; i++) {
                float e = exact.get(i);
                assertEquals(e, curve.get(i), 1e-4 * Math.abs(e), "loss at step " + (i + 1) + "; exact " + exact
                        + " vs full-rank PowerSGD " + curve);
            }
        }
        assertTrue(exact.get(STEPS - 1) < 0.9 * exact.get(0), "the runs learned: " + exact);
    }

    @Test
    void rankTwoPowerSgdLowersTheLossAndSendsFewerBytesThanTheDenseMean() throws IOException {
        DistributedRun run = run(2);
        Path out = tmp.resolve("rank2");
        List<DistributedTrainer.Result> results = train(run, out, STEPS, false,
                g -> shards -> PriorWorker.exchange(run, g, shards));
        DistributedTrainer.Result r = results.get(0);
        List<Float> curve = losses(r);
        assertTrue(curve.get(STEPS - 1) < 0.9 * curve.get(0), "loss fell: " + curve);
        assertTrue(r.sentBytes() > 0 && r.sentBytes() < r.denseBytes(), r.sentBytes() + " of " + r.denseBytes());
        for (DistributedTrainer.StepRecord s : r.steps()) {
            assertTrue(s.sentBytes() > 0 && s.sentBytes() < s.denseBytes(), s.toString());
        }
        // metrics.jsonl carries the per-update bytes; the totals are their sums
        long sent = 0;
        long dense = 0;
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonObject row = JsonParser.parseString(line).getAsJsonObject();
            sent += row.get("sent_bytes").getAsLong();
            dense += row.get("dense_bytes").getAsLong();
        }
        assertEquals(r.sentBytes(), sent);
        assertEquals(r.denseBytes(), dense);
        System.out.printf("rank 2, W=%d G=%d: losses %s; %s%n", WORKERS, GROUPS, curve,
                PriorWorker.traffic("powersgd-r2", r));
    }

    @Test
    void aPowerSgdRunResumedFromItsCheckpointEndsWithTheUninterruptedLoss() {
        DistributedRun run = run(2);
        Function<Groups, Function<List<ShardView>, ReplicaExchange>> powerSgd =
                g -> shards -> PriorWorker.exchange(run, g, shards);
        DistributedTrainer.Result whole = train(run, tmp.resolve("whole"), STEPS, false, powerSgd).get(0);

        Path out = tmp.resolve("resumed");
        train(run, out, STEPS / 2, false, powerSgd);
        // the checkpoint holds error buffers that are not zero: dropping them would change the run
        ShardCheckpoint.Manifest m = ShardCheckpoint.verify(out);
        assertEquals(STEPS / 2, m.step());
        Map<String, float[]> shard = ShardCheckpoint.readShard(ShardCheckpoint.resumable(out), m, 0);
        double errors = 0;
        for (Map.Entry<String, float[]> e : shard.entrySet()) {
            if (e.getKey().startsWith("exchange.") && e.getKey().endsWith(".error")) {
                for (float x : e.getValue()) {
                    errors += Math.abs(x);
                }
            }
        }
        assertTrue(errors > 0, "no PowerSGD error buffer in the checkpoint: " + shard.keySet());

        DistributedTrainer.Result second = train(run, out, STEPS, true, powerSgd).get(0);
        assertEquals(STEPS / 2, second.steps().size());
        float expected = whole.lastLoss();
        assertEquals(expected, second.lastLoss(), 1e-6 * Math.abs(expected));
        assertEquals(whole.sentBytes(), second.sentBytes(), "byte totals survive the resume");
        assertEquals(whole.denseBytes(), second.denseBytes());
    }

    @Test
    void aSliceCutAcrossRowsIsExchangedExactlyAtFullRankAndItsPaddingStaysZero() {
        // a (5, 4) weight in groups of 3: shard 2 holds flat [14, 21), six real values and one of padding,
        // i.e. the last two cells of row 3 and all of row 4
        Shape shape = new Shape(5, 4);
        PowerSgdConfig full = PowerSgdConfig.paper(8, 1).withOnlyWhenSaving(false);
        float[][] grads = {{1, -2, 3, 0.5f, 4, -1, 0}, {-3, 2, 1, 1.5f, 0, 5, 0}};
        List<float[]> out = InProcessCollectives.runOnThreads(2, replicas -> {
            float[] g = grads[replicas.rank()].clone();
            ShardView w = new ShardView("w", Parameter.Kind.WEIGHT, shape, 20, 14, new float[7], new float[7],
                    new float[7], g);
            ShardPowerSgd exchange = new ShardPowerSgd(replicas, full, List.of(w));
            exchange.exchange(List.of(w));
            assertEquals(4L * 6, exchange.denseBytes(), "the padding is not counted");
            return g;
        });
        for (float[] g : out) {
            for (int i = 0; i < 6; i++) {
                assertEquals((grads[0][i] + grads[1][i]) / 2, g[i], 1e-4f, "element " + i);
            }
            assertEquals(0f, g[6], 0f, "padding");
        }
    }
}
