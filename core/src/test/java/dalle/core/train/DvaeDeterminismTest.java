package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDManager;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.DvaeConfig;
import dalle.core.dvae.DvaeRecipe;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same dVAE training run twice logs the same {@code metrics.jsonl}, number for number (wall-clock
 * fields aside), and applies every update. Before the {@link dalle.core.nn.Conv2d} fix the gradients of
 * its 8-channel convs were read from uninitialised memory: norms differed run to run and some were NaN.
 */
class DvaeDeterminismTest {

    @TempDir Path dir;

    @Test
    void theShapesRecipeAtTinyLogsTheSameMetricsTwiceWithNoUpdateSkipped() throws Exception {
        Map<Long, Map<String, Double>> first = train(dir.resolve("a"));
        Map<Long, Map<String, Double>> second = train(dir.resolve("b"));
        assertEquals(first, second);
        first.forEach((step, row) -> assertFalse(row.containsKey("skipped"), "update " + step + ": " + row));
    }

    private static Map<Long, Map<String, Double>> train(Path out) throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
             DvaeTask task = new DvaeTask(manager, DvaeConfig.tiny(), ExampleBatches.shapes(ShapesDataset.train(1, 64)), 8, 1, DvaeRecipe.shapes(), OptimizerSettings.dvaePaper());
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 4, 1, 100, false),
                     TrainingListener.NONE)) {
            trainer.run();
        }
        Map<Long, Map<String, Double>> rows = new LinkedHashMap<>();
        TinyRuns.metrics(out).forEach((step, row) -> {
            Map<String, Double> numbers = new LinkedHashMap<>(row);
            numbers.remove("steps_per_s");
            numbers.remove("wall_s");
            rows.put(step, numbers);
        });
        return rows;
    }
}
