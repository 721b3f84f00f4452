package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.io.CheckpointException;
import dalle.core.tokenizer.BpeTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping and resuming gives the run that was never stopped; a damaged or foreign checkpoint is refused. */
class ResumeTest {

    private static final int K = 6;

    @TempDir Path dir;

    static BpeTokenizer tokenizer;

    @BeforeAll
    static void tokenizer() {
        tokenizer = TinyRuns.tokenizer();
    }

    /** Makes a task on a manager; the same arguments make the same task. */
    interface TaskFactory extends Function<NDManager, TrainingTask> {}

    @Test
    void resumedDvaeRunRepeatsTheUninterruptedRunExactly() throws Exception {
        assertResumeIsExact("dvae", m -> TinyRuns.dvae(m, 7));
    }

    @Test
    void resumedPriorRunRepeatsTheUninterruptedRunExactly() throws Exception {
        try (NDManager codesManager = NDManager.newBaseManager()) {
            CodeCache codes = TinyRuns.codes(codesManager);
            assertResumeIsExact("prior", m -> TinyRuns.prior(m, tokenizer, codes, 7));
        }
    }

    @Test
    void resumedClipRunRepeatsTheUninterruptedRunExactly() throws Exception {
        assertResumeIsExact("clip", m -> TinyRuns.clip(m, tokenizer, 7));
    }

    private void assertResumeIsExact(String name, TaskFactory factory) throws Exception {
        // Given an uninterrupted run of 2K steps
        Path straight = dir.resolve(name + "-straight");
        train(factory, straight, 2 * K, false, 2 * K);
        // When another run stops after K steps and a new process resumes it to 2K
        Path resumed = dir.resolve(name + "-resumed");
        train(factory, resumed, 2 * K, false, K);
        assertTrue(Files.isRegularFile(resumed.resolve("checkpoint/state.json")));
        assertFalse(Files.exists(resumed.resolve(Trainer.MODEL_DIR)), "no final model before the budget is spent");
        train(factory, resumed, 2 * K, true, 2 * K);

        // Then every logged loss and schedule value is identical, step for step, and so are the final weights
        Map<Long, Map<String, Double>> a = TinyRuns.metrics(straight);
        Map<Long, Map<String, Double>> b = TinyRuns.metrics(resumed);
        assertEquals(a.keySet(), b.keySet(), "one row per step, none repeated");
        a.forEach((step, row) -> row.forEach((key, value) -> {
            if (!key.equals("steps_per_s") && !key.equals("wall_s")) {
                assertEquals(value, b.get(step).get(key), name + " step " + step + " " + key);
            }
        }));
        assertArrayEquals(Files.readAllBytes(straight.resolve("model/model.safetensors")),
                Files.readAllBytes(resumed.resolve("model/model.safetensors")), "final weights");
    }

    private static void train(TaskFactory factory, Path out, long total, boolean resume, long until) throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
             TrainingTask task = factory.apply(manager);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, total, 7, K, resume),
                     TrainingListener.NONE)) {
            trainer.run(until);
        }
    }

    @Test
    void corruptCheckpointIsRefusedNamingTheFileAndTheReason() throws Exception {
        Path out = dir.resolve("corrupt");
        train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, K);
        Path weights = out.resolve("checkpoint/model/model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(weights, bytes);

        CheckpointException e = assertThrows(CheckpointException.class,
                () -> train(m -> TinyRuns.dvae(m, 7), out, 2 * K, true, 2 * K));
        assertEquals(weights, e.path());
        assertTrue(e.getMessage().contains(weights.toString()) && e.getMessage().contains("modified or truncated"),
                e.getMessage());
    }

    @Test
    void checkpointWithoutStateIsRefusedNamingStateJson() throws Exception {
        Path out = dir.resolve("incomplete");
        train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, K);
        Path state = out.resolve("checkpoint/state.json");
        Files.delete(state);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> train(m -> TinyRuns.dvae(m, 7), out, 2 * K, true, 2 * K));
        assertEquals(state, e.path());
    }

    @Test
    void checkpointOfAnotherRunIsRefusedNamingWhatDiffers() throws Exception {
        Path out = dir.resolve("other");
        train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, K);
        CheckpointException e = assertThrows(CheckpointException.class, () -> train(m -> new DvaeTask(m,
                TinyRuns.DVAE, ExampleBatches.shapes(TinyRuns.shapes(7)), 4, 7, dalle.core.dvae.DvaeSchedules.tiny(),
                OptimizerSettings.dvaePaper()), out, 2 * K, true, 2 * K));
        assertEquals(out.resolve("checkpoint/state.json"), e.path());
        assertTrue(e.getMessage().contains("batch is 8, this run's is 4"), e.getMessage());
    }

    @Test
    void resumingWithOtherSettingsContinuesWithThemAndSaysWhatChanged() throws Exception {
        Path out = dir.resolve("changed");
        train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, K);
        List<String> notes = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
             TrainingTask task = new DvaeTask(manager, TinyRuns.DVAE, ExampleBatches.shapes(TinyRuns.shapes(7)), 8, 7,
                     dalle.core.dvae.DvaeSchedules.tiny(), OptimizerSettings.dvaePaper());
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 3 * K, 7, K, true),
                     new TrainingListener() {
                         @Override
                         public void onStep(StepMetrics metrics) {}

                         @Override
                         public void onNote(String message) {
                             notes.add(message);
                         }
                     })) {
            assertEquals(K, trainer.step());
            trainer.run();
        }
        String note = notes.stream().filter(n -> n.startsWith("resuming")).findFirst().orElseThrow();
        assertTrue(note.contains("budget " + 2 * K + " -> " + 3 * K) && note.contains("schedules ")
                && note.contains("optimizer "), note);
        assertEquals(3 * K, TinyRuns.metrics(out).size());
    }

    @Test
    void startingOverAnExistingRunWithoutResumeIsRefused() throws Exception {
        Path out = dir.resolve("existing");
        train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, K);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> train(m -> TinyRuns.dvae(m, 7), out, 2 * K, false, 2 * K));
        assertTrue(e.getMessage().contains("already holds a training run"), e.getMessage());
    }

    @Test
    void aCrashBetweenRenamesResumesFromThePreviousCheckpoint() throws Exception {
        Path out = dir.resolve("crash");
        train(m -> TinyRuns.dvae(m, 7), out, 3 * K, false, 2 * K);
        // the latest checkpoint moved away, the new one not yet in place
        dalle.core.io.DurableFiles.deleteRecursively(out.resolve(CheckpointStore.LATEST));
        assertTrue(Files.isDirectory(out.resolve(CheckpointStore.PREVIOUS)));
        try (NDManager manager = NDManager.newBaseManager();
             TrainingTask task = TinyRuns.dvae(manager, 7);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 3 * K, 7, K, true),
                     TrainingListener.NONE)) {
            assertEquals(K, trainer.step(), "resumed from the previous checkpoint");
        }
    }
}
