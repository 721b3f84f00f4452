package dalle.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code run.json} in a {@code dalle up} data folder: what runs there and how to reach it, for people, scripts,
 * {@code dalle status} and {@code dalle down}. Written atomically (temp file, then rename).
 *
 * @param dataDir the data folder, absolute
 * @param startedAtMs when {@code dalle up} started it, Unix epoch ms
 * @param kafka the broker
 * @param services the services, in start order
 */
record RunState(String dataDir, long startedAtMs, Kafka kafka, List<Service> services) {

    static final String FILE = "run.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /**
     * @param bootstrap {@code 127.0.0.1:<port>}
     * @param pid the broker's process id
     * @param log its log file
     */
    record Kafka(String bootstrap, long pid, String log) {
    }

    /**
     * @param name the role
     * @param pid its process id
     * @param readyUrl its readiness URL
     * @param endpoints client endpoints by kind ("http", "grpc")
     * @param log its log file
     */
    record Service(String name, long pid, String readyUrl, Map<String, String> endpoints, String log) {
    }

    void write(Path dir) throws IOException {
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.writeString(tmp, GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The run.json of {@code dir}, empty if there is none. */
    static Optional<RunState> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunState.class));
        } catch (JsonParseException e) {
            throw new IOException(file + " is not a dalle run file: " + e.getMessage(), e);
        }
    }
}
