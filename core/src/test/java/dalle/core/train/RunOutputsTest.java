package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.dvae.Dvae;
import dalle.core.plot.LineChart;
import dalle.core.tokenizer.BpeTokenizer;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run leaves behind, and what it does not accumulate. */
class RunOutputsTest {

    @TempDir Path dir;

    @Test
    void runWritesMetricsLinesALossChartAndTheAveragedWeightsAsTheFinalModel() throws Exception {
        Path out = dir.resolve("dvae");
        List<StepMetrics> heard = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
             DvaeTask task = TinyRuns.dvae(manager, 3);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 12, 3, 5, false), heard::add)) {
            trainer.run();
        }
        // one metrics line per step with the loss parts and the schedules
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        assertEquals(12, rows.size());
        assertEquals(12, heard.size());
        for (String key : List.of("loss", "reconstruction", "kl", "usage", "lr", "tau", "beta", "grad_norm", "steps_per_s",
                "wall_s")) {
            assertTrue(rows.get(12L).containsKey(key), "metrics line lacks " + key + ": " + rows.get(12L));
        }
        assertEquals(heard.get(11).loss(), rows.get(12L).get("loss").floatValue());
        assertTrue(rows.get(12L).get("tau") < rows.get(1L).get("tau"), "τ anneals");
        // a chart with one panel per loss part
        BufferedImage chart = ImageIO.read(out.resolve(LossChart.FILE).toFile());
        assertEquals(LossChart.WIDTH, chart.getWidth());
        assertEquals(4 * LossChart.PANEL_HEIGHT, chart.getHeight()); // loss, reconstruction, kl, usage
        assertTrue(colours(chart) > 10, "the chart has drawing on it");
        List<String> parts = List.of("loss", "reconstruction", "kl", "usage");
        for (int i = 0; i < parts.size(); i++) { // each part's line in its own colour, the code-usage gap included
            int rgb = LineChart.PALETTE.get(i).getRGB() & 0xffffff;
            assertTrue(pixels(chart, rgb) > 20, parts.get(i) + " drawn in #" + Integer.toHexString(rgb));
        }
        // the final model is the EMA, loadable, and differs from the live weights of the last checkpoint
        Path model = out.resolve(Trainer.MODEL_DIR);
        assertArrayEquals(Files.readAllBytes(out.resolve("checkpoint/ema/model.safetensors")),
                Files.readAllBytes(model.resolve("model.safetensors")));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(out.resolve("checkpoint/model/model.safetensors")),
                Files.readAllBytes(model.resolve("model.safetensors"))));
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(TinyRuns.DVAE, Dvae.load(model, m).config());
        }
        assertTrue(Files.isDirectory(out.resolve("checkpoint.prev")), "the previous checkpoint is kept");
        assertFalse(Files.exists(out.resolve("checkpoint.tmp")));
    }

    private static int pixels(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }

    private static int colours(BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }

    @Test
    void arraysOnTheTrainingManagerStayFlatAcrossStepsAndCheckpoints() throws Exception {
        BpeTokenizer tokenizer = TinyRuns.tokenizer();
        try (NDManager codesManager = NDManager.newBaseManager()) {
            CodeCache codes = TinyRuns.codes(codesManager);
            assertFlat("dvae", m -> TinyRuns.dvae(m, 3));
            assertFlat("prior", m -> TinyRuns.prior(m, tokenizer, codes, 3));
            assertFlat("clip", m -> TinyRuns.clip(m, tokenizer, 3));
        }
    }

    private void assertFlat(String name, java.util.function.Function<NDManager, TrainingTask> factory)
            throws Exception {
        Map<Long, Integer> counts = new java.util.TreeMap<>();
        try (NDManager manager = NDManager.newBaseManager();
             TrainingTask task = factory.apply(manager)) {
            TrainingListener count = m -> {
                if (m.step() % 20 == 0) {
                    counts.put(m.step(), manager.getManagedArrays().size());
                }
            };
            try (Trainer trainer = new Trainer(manager, task,
                    new TrainerOptions(dir.resolve(name + "-memory"), 80, 3, 10, false), count)) {
                trainer.run();
            }
        }
        System.out.println(name + ": arrays on the training manager by step " + counts);
        assertEquals(1, counts.values().stream().distinct().count(), name + " arrays by step " + counts);
    }
}
