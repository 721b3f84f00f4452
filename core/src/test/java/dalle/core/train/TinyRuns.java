package dalle.core.train;

import ai.djl.ndarray.NDManager;
import dalle.core.clip.ClipConfig;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.dvae.DvaeSchedules;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.PriorConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Tiny models on 32×32 shapes, and learning rates high enough for a few dozen steps to show learning. */
final class TinyRuns {

    static final int RESOLUTION = 32;
    static final DvaeConfig DVAE = new DvaeConfig(32, 4, 64, 8, 1, 8);

    private TinyRuns() {}

    static ShapesDataset shapes(long seed) {
        return ShapesDataset.train(seed, RESOLUTION);
    }

    static BpeTokenizer tokenizer() {
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 500; i++) {
            captions.add(shapes(1).caption(i).text());
        }
        return BpeTokenizer.train(captions, 300);
    }

    static DvaeTask dvae(NDManager manager, long seed) {
        DvaeSchedules fast = new DvaeSchedules(6.6f, 0.3, 1f, 1f / 16, 0.5, 3e-3f, 3e-4f, 1.0);
        return new DvaeTask(manager, DVAE, ExampleBatches.shapes(shapes(seed)), 8, seed, fast,
                OptimizerSettings.dvaePaper().withEmaDecay(0.9f));
    }

    static PriorConfig priorConfig(BpeTokenizer tokenizer) {
        return new PriorConfig(tokenizer.vocabSize(), 8, tokenizer.padId(), 64, 4, 32, 2, 2, 3, 2);
    }

    /** Codes of 64 shapes made by a freshly initialised (untrained) dVAE: enough for the prior to learn from. */
    static CodeCache codes(NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            Dvae dvae = new Dvae(scope, DVAE, 5);
            return CodeCache.build(dvae, "untrained-seed-5", shapes(1).examples(0, 64).iterator(), 64,
                    "shapes:test", scope, n -> { });
        }
    }

    static PriorTask prior(NDManager manager, BpeTokenizer tokenizer, CodeCache codes, long seed) {
        return new PriorTask(manager, priorConfig(tokenizer), codes, tokenizer, 8, seed,
                new WarmupCosine(3e-3f, 0.1, 0.1f), OptimizerSettings.priorPaper(), PriorTask.PAPER_BPE_DROPOUT);
    }

    static ClipConfig clipConfig(BpeTokenizer tokenizer) {
        return new ClipConfig(tokenizer.vocabSize(), 8, tokenizer.padId(), 32, 32, 1, 2, 8, 16);
    }

    static ClipTask clip(NDManager manager, BpeTokenizer tokenizer, long seed) {
        return new ClipTask(manager, clipConfig(tokenizer), ExampleBatches.shapes(shapes(seed)), tokenizer, 16, seed,
                new WarmupCosine(1e-3f, 0.1, 0f), OptimizerSettings.clipPaper());
    }

    /** The metrics.jsonl rows of a run, by step. */
    static Map<Long, Map<String, Double>> metrics(Path out) throws IOException {
        Map<Long, Map<String, Double>> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out.resolve(MetricsLog.FILE), StandardCharsets.UTF_8)) {
            Map<String, Double> row = MetricsLog.parse(line).orElseThrow();
            rows.put(row.get("step").longValue(), row);
        }
        return rows;
    }

    /** Mean of {@code key} over the first or last {@code n} rows. */
    static double mean(Map<Long, Map<String, Double>> rows, String key, int n, boolean last) {
        List<Double> values = rows.values().stream().map(r -> r.get(key)).toList();
        List<Double> part = last ? values.subList(values.size() - n, values.size()) : values.subList(0, n);
        return part.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
