package dalle.training.cluster.train;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dalle.core.train.StepMetrics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl} of a distributed run, written by rank 0: one row per update (step, losses,
 * lr, grad_norm, skipped, sent_bytes and dense_bytes of rank 0's exchange between groups, wall_s). A resumed run first drops the rows past the checkpoint's step,
 * so the file reads as one uninterrupted run.
 */
final class MetricsFile implements AutoCloseable {

    /** NaN and Infinity written as core's MetricsLog writes them: a skipped update may have a non-finite norm. */
    private static final Gson GSON = new com.google.gson.GsonBuilder().serializeSpecialFloatingPointValues().create();
    private final BufferedWriter writer;

    /** Opens {@code file}, keeping only rows with step ≤ {@code keepUpTo} (0 = a fresh run). */
    MetricsFile(Path file, long keepUpTo) throws IOException {
        List<String> kept = new ArrayList<>();
        if (keepUpTo > 0 && Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonObject row = JsonParser.parseString(line).getAsJsonObject();
                if (row.has("step") && row.get("step").getAsLong() <= keepUpTo) {
                    kept.add(line);
                }
            }
        }
        Files.write(file, kept, StandardCharsets.UTF_8);
        writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    void append(StepMetrics m, long sentBytes, long denseBytes) throws IOException {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("step", m.step());
        row.putAll(m.losses());
        row.put("lr", m.lr());
        row.put("grad_norm", (float) m.gradNorm());
        if (m.skipped()) {
            row.put("skipped", true);
        }
        row.put("sent_bytes", sentBytes);
        row.put("dense_bytes", denseBytes);
        row.put("wall_s", Math.round(m.wallSeconds() * 10) / 10.0);
        writer.write(GSON.toJson(row));
        writer.newLine();
        writer.flush();
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }
}
