package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParser;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A non-finite update is skipped, and only that one: its gradient does not leak into the next. */
class SkippedUpdateTest {

    @TempDir Path dir;

    record LineConfig(int in) {}

    /** Least squares on a line, except that update {@code badStep} adds ln of a negative number (NaN). */
    static final class FlakyTask implements TrainingTask {
        private final Linear model;
        private final long badStep;

        FlakyTask(NDManager manager, long badStep) {
            this.model = new Linear(manager, new SplittableRandom(3), 2, 1, true);
            this.badStep = badStep;
        }

        @Override public String kind() { return "line"; }
        @Override public Module model() { return model; }
        @Override public Record config() { return new LineConfig(2); }
        @Override public Module newModel(NDManager manager) { return new Linear(manager, new SplittableRandom(0), 2, 1, true); }
        @Override public OptimizerSettings optimizer() { return new OptimizerSettings(0.9f, 0.99f, 1e-8f, 0f, 1f, 0f); }
        @Override public float learningRate(long step, long totalSteps) { return 0.05f; }
        @Override public int batchSize() { return 2; }
        @Override public Map<String, String> identity() { return Map.of(); }
        @Override public Map<String, String> settings() { return Map.of(); }
        @Override public String dataSummary() { return ""; }

        @Override
        public StepLoss loss(long step, long totalSteps, NDManager scope, SplittableRandom rng) {
            NDArray x = scope.create(new float[] {1, 2, -1, 0.5f}, new Shape(2, 2));
            NDArray y = scope.create(new float[] {3, -1}, new Shape(2, 1));
            NDArray loss = model.forward(x).sub(y).square().mean();
            if (step == badStep) {
                NDArray zero = scope.zeros(new Shape(1, 2));
                NDArray one = scope.ones(new Shape(1, 2));
                loss = loss.add(model.weight().array().mul(zero).sub(one).sqrt().sum()); // √−1: NaN, NaN gradients
            }
            return new StepLoss(loss, Map.of(), Map.of());
        }
    }

    @Test
    void onlyTheNonFiniteUpdateIsSkippedAndTrainingContinues() throws Exception {
        Path out = dir.resolve("line");
        try (NDManager manager = NDManager.newBaseManager();
             FlakyTask task = new FlakyTask(manager, 2);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 30, 1, 30, false),
                     TrainingListener.NONE)) {
            TrainingResult r = trainer.run();
            assertEquals(1, r.skippedUpdates());
        }
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        assertEquals(1.0, rows.get(3L).get("skipped"), "update 3 (step index 2) skipped: " + rows.get(3L));
        assertTrue(Double.isNaN(rows.get(3L).get("grad_norm")), "its gradient was NaN: " + rows.get(3L));
        for (long s = 4; s <= 30; s++) {
            assertFalse(rows.get(s).containsKey("skipped"), "update " + s + " ran: " + rows.get(s));
            assertTrue(Double.isFinite(rows.get(s).get("grad_norm")));
        }
        assertTrue(rows.get(30L).get("loss") < rows.get(1L).get("loss") / 10, "still learning after the skip");
        var state = JsonParser.parseString(Files.readString(out.resolve("checkpoint/state.json"))).getAsJsonObject();
        assertEquals(29, state.get("optimizerSteps").getAsLong());
        assertEquals(1, state.get("skippedUpdates").getAsLong());
    }
}
