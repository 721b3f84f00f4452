package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle.core.tokenizer.BpeTokenizer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each model's loss falls when trained by the shared loop on 32×32 shapes. */
class TrainerTest {

    @TempDir Path dir;

    @Test
    void dvaeReconstructionFallsOnShapes() throws Exception {
        Path out = dir.resolve("dvae");
        try (NDManager manager = NDManager.newBaseManager();
             DvaeTask task = TinyRuns.dvae(manager, 3);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 40, 3, 20, false),
                     TrainingListener.NONE)) {
            trainer.run();
        }
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        double first = TinyRuns.mean(rows, "reconstruction", 5, false);
        double last = TinyRuns.mean(rows, "reconstruction", 5, true);
        System.out.printf("dVAE, 40 steps of 8: reconstruction %.3f -> %.3f nats/pixel-channel%n", first, last);
        assertEquals(40, rows.size());
        // the decoder's output biases start at the data's statistics, so the run starts low and still falls
        assertTrue(first < -1.5, "fitted output biases should start near the data: " + first);
        assertTrue(last < first - 0.03, "reconstruction " + first + " -> " + last);
    }

    @Test
    void priorLossFallsOnCodesOfShapes() throws Exception {
        Path out = dir.resolve("prior");
        BpeTokenizer tokenizer = TinyRuns.tokenizer();
        try (NDManager manager = NDManager.newBaseManager()) {
            CodeCache codes = TinyRuns.codes(manager);
            try (PriorTask task = TinyRuns.prior(manager, tokenizer, codes, 3);
                 Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 40, 3, 20, false),
                         TrainingListener.NONE)) {
                trainer.run();
            }
        }
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        double first = TinyRuns.mean(rows, "loss", 5, false);
        double last = TinyRuns.mean(rows, "loss", 5, true);
        System.out.printf("prior, 40 steps of 8: loss %.3f -> %.3f (text %.3f -> %.3f) nats/token%n", first, last,
                TinyRuns.mean(rows, "text", 5, false), TinyRuns.mean(rows, "text", 5, true));
        assertTrue(last < first - 1.0, "loss " + first + " -> " + last);
    }

    @Test
    void clipLossFallsBelowChanceOnShapes() throws Exception {
        Path out = dir.resolve("clip");
        BpeTokenizer tokenizer = TinyRuns.tokenizer();
        try (NDManager manager = NDManager.newBaseManager();
             ClipTask task = TinyRuns.clip(manager, tokenizer, 3);
             Trainer trainer = new Trainer(manager, task, new TrainerOptions(out, 150, 3, 150, false),
                     TrainingListener.NONE)) {
            trainer.run();
        }
        Map<Long, Map<String, Double>> rows = TinyRuns.metrics(out);
        double first = TinyRuns.mean(rows, "loss", 5, false);
        double last = TinyRuns.mean(rows, "loss", 20, true);
        double chance = Math.log(16);
        System.out.printf("reranker, 150 steps of 16: loss %.3f -> %.3f (chance ln 16 = %.3f)%n", first, last, chance);
        assertTrue(last < chance - 0.2, "loss " + first + " -> " + last + ", chance " + chance);
    }
}
