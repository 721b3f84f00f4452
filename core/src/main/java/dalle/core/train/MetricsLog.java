package dalle.core.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
import java.util.Optional;

/**
 * {@code metrics.jsonl}: one JSON object per update ({@link StepMetrics#row()}), appended and flushed
 * as the run goes, so {@code tail -f} and {@code jq} work on a live run. The rows are also kept in
 * memory, as numbers, for the loss chart.
 *
 * <p>On resume, rows after the checkpoint's step (logged by the interrupted session after its last
 * checkpoint) are dropped, so the file reads as one uninterrupted run.
 */
final class MetricsLog implements AutoCloseable {

    static final String FILE = "metrics.jsonl";

    private static final Gson LINE = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues()
            .create();

    private final List<Map<String, Double>> rows = new ArrayList<>();
    private final BufferedWriter writer;

    /**
     * @param keepUpTo when resuming, the checkpoint's step: earlier rows are kept; negative to start a new file
     */
    MetricsLog(Path file, long keepUpTo) throws IOException {
        List<String> kept = new ArrayList<>();
        if (keepUpTo >= 0 && Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                Optional<Map<String, Double>> parsed = parse(line);
                if (parsed.isEmpty() || parsed.get().get("step") > keepUpTo) {
                    continue;
                }
                Map<String, Double> row = parsed.get();
                kept.add(line);
                rows.add(row);
            }
        }
        Path tmp = file.resolveSibling(FILE + ".tmp");
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** Appends one update's row. */
    void append(StepMetrics m) throws IOException {
        Map<String, Object> row = m.row();
        writer.write(LINE.toJson(row));
        writer.newLine();
        writer.flush();
        Map<String, Double> numbers = new LinkedHashMap<>();
        row.forEach((k, v) -> {
            if (v instanceof Number n) {
                numbers.put(k, n.doubleValue());
            }
        });
        rows.add(numbers);
    }

    /** Every row so far, numeric fields only (true/false as 1/0). */
    List<Map<String, Double>> rows() {
        return rows;
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }

    /** The numeric fields of one line (booleans as 1/0); empty for a line that is not a JSON object with a step (a torn last line). */
    static Optional<Map<String, Double>> parse(String line) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) {
                return Optional.empty();
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            return Optional.empty();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        o.entrySet().forEach(en -> {
            JsonElement v = en.getValue();
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                out.put(en.getKey(), v.getAsDouble());
            } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
                out.put(en.getKey(), v.getAsBoolean() ? 1.0 : 0.0);
            } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
                try {
                    out.put(en.getKey(), Double.parseDouble(v.getAsString())); // NaN, Infinity
                } catch (NumberFormatException ignored) {
                    // not a number: not plotted
                }
            }
        });
        return out.containsKey("step") ? Optional.of(out) : Optional.empty();
    }
}
