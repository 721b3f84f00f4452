package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParser;
import dalle.core.nn.Linear;
import dalle.core.nn.Module;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An fp32 update with a NaN loss or gradient stops the run with an error that names the update and the
 * parameters; nothing is applied, the sound updates before it are checkpointed, and a resume continues.
 */
class NonFiniteUpdateTest {

    @TempDir Path dir;

    record LineConfig(int in) {}

    enum Fault { NONE, NAN_LOSS, NAN_GRADIENT_ONLY }

    /** Least squares on a line, except that update {@code badStep} is poisoned as {@code fault} says. */
    static final class FlakyTask implements TrainingTask {
        private final Linear model;
        private final long badStep;
        private final Fault fault;

        FlakyTask(NDManager manager, long badStep, Fault fault) {
            this.model = new Linear(manager, new SplittableRandom(3), 2, 1, true);
            this.badStep = badStep;
            this.fault = fault;
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
                NDArray zeroed = model.weight().array().mul(scope.zeros(new Shape(1, 2)));
                loss = switch (fault) {
                    case NAN_LOSS -> loss.add(zeroed.sub(scope.ones(new Shape(1, 2))).sqrt().sum()); // √−1
                    case NAN_GRADIENT_ONLY -> loss.add(zeroed.sqrt().sum()); // √0 = 0, but d√x/dx at 0 is ∞, × 0 = NaN
                    case NONE -> loss;
                };
            }
            return new StepLoss(loss, Map.of(), Map.of());
        }
    }

    @Test
    void aNanGradientWithAFiniteLossStopsTheRunNamingTheUpdateAndTheParameter() throws Exception {
        Path out = dir.resolve("line");
        NonFiniteUpdateException e = trainUntilFault(out, Fault.NAN_GRADIENT_ONLY);
        assertEquals(3, e.step());
        assertEquals(List.of("weight"), e.parameters(), e.getMessage());
        assertTrue(e.getMessage().startsWith("update 3 of 30: the loss is finite"), e.getMessage());
        assertTrue(e.getMessage().contains("non-finite gradient in 1 parameter: weight"), e.getMessage());
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        assertTrue(Double.isNaN(rows.get(3L).get("grad_norm")), "logged with its NaN norm: " + rows.get(3L));
        assertEquals(1.0, rows.get(3L).get("skipped"));
    }

    @Test
    void aNanLossStopsTheRunAfterCheckpointingTheSoundUpdatesAndAResumeContinues() throws Exception {
        Path out = dir.resolve("line");
        // When update 3 has a NaN loss
        NonFiniteUpdateException e = trainUntilFault(out, Fault.NAN_LOSS);
        // Then the error names it, and the two sound updates before it are in the checkpoint
        assertEquals(3, e.step());
        assertTrue(e.getMessage().startsWith("update 3 of 30: the loss is NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("The last checkpoint is at update 2"), e.getMessage());
        var state = JsonParser.parseString(Files.readString(out.resolve("checkpoint/state.json"))).getAsJsonObject();
        assertEquals(2, state.get("step").getAsLong());
        assertEquals(2, state.get("optimizerSteps").getAsLong());

        // And a resume (the data mended) runs update 3 again and trains to the end
        try (NDManager manager = NDManager.newBaseManager();
             FlakyTask task = new FlakyTask(manager, -1, Fault.NONE);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 30, 1, 30, true),
                     TrainingListener.NONE)) {
            TrainingResult r = trainer.run();
            assertEquals(30, r.step());
            assertEquals(0, r.skippedUpdates());
        }
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        for (long s = 1; s <= 30; s++) {
            assertFalse(rows.get(s).containsKey("skipped"), "update " + s + ": " + rows.get(s));
            assertTrue(Double.isFinite(rows.get(s).get("grad_norm")));
        }
        assertTrue(rows.get(30L).get("loss") < rows.get(1L).get("loss") / 10, "learned: " + rows.get(30L));
    }

    private NonFiniteUpdateException trainUntilFault(Path out, Fault fault) throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
             FlakyTask task = new FlakyTask(manager, 2, fault);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 30, 1, 30, false),
                     TrainingListener.NONE)) {
            NonFiniteUpdateException e = assertThrows(NonFiniteUpdateException.class, trainer::run);
            assertEquals(2, trainer.step(), "nothing applied at the bad update");
            return e;
        }
    }
}
