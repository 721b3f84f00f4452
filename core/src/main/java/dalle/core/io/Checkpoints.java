package dalle.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One model directory: {@code config.json} ({@code {"kind": ..., "format": 1, "config": {...}}})
 * and {@code model.safetensors} keyed by the module's dotted parameter names.
 *
 * <p>Loading is strict: a config of another kind, a missing or extra tensor, or a tensor of
 * the wrong shape is refused with the file's path and the reason, before any weight changes.
 */
public final class Checkpoints {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final int FORMAT = 1;

    /** Pretty-printing Gson used for every JSON file the project writes (records supported). */
    public static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private Checkpoints() {}

    /** Writes {@code config.json} and {@code model.safetensors} of {@code module} into {@code dir}. */
    public static void save(Path dir, String kind, Record config, Module module, SafeTensors.Storage storage)
            throws IOException {
        Files.createDirectories(dir);
        JsonObject root = new JsonObject();
        root.addProperty("kind", kind);
        root.addProperty("format", FORMAT);
        root.add("config", GSON.toJsonTree(config));
        Files.writeString(dir.resolve(CONFIG_FILE), GSON.toJson(root) + "\n", StandardCharsets.UTF_8);
        Map<String, NDArray> tensors = new java.util.LinkedHashMap<>();
        module.parameters().forEach((name, p) -> tensors.put(name, p.array()));
        SafeTensors.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("kind", kind), storage);
    }

    /**
     * Reads the config record of a model directory.
     *
     * @throws CheckpointException when the file is missing, malformed, of another kind, or fails the
     *     record's own validation
     */
    public static <C extends Record> C readConfig(Path dir, String kind, Class<C> type) {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing model config (expected " + CONFIG_FILE + " in " + dir + ")");
        }
        JsonObject root;
        try {
            root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new CheckpointException(file, "malformed JSON: " + e.getMessage(), e);
        }
        JsonElement k = root.get("kind");
        if (k == null || !k.isJsonPrimitive() || !kind.equals(k.getAsString())) {
            throw new CheckpointException(file, "expected a '" + kind + "' model config but found kind " + k);
        }
        JsonElement f = root.get("format");
        if (f == null || !f.isJsonPrimitive() || f.getAsInt() != FORMAT) {
            throw new CheckpointException(file, "unsupported checkpoint format " + f + " (this build reads " + FORMAT + ")");
        }
        try {
            C config = GSON.fromJson(root.get("config"), type);
            if (config == null) {
                throw new CheckpointException(file, "missing \"config\" object");
            }
            return config;
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            // Gson wraps what the record's compact constructor throws in a plain RuntimeException:
            // report the innermost message, which names the bad value.
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            throw new CheckpointException(file, "invalid " + kind + " config: " + cause.getMessage(), e);
        }
    }

    /**
     * Loads a model directory: reads its config, builds the model on a new sub-manager of
     * {@code manager} with {@code factory}, and loads the weights into it. On failure the
     * sub-manager is closed and nothing leaks.
     *
     * @throws CheckpointException naming the file and the reason when the config or weights do not fit
     */
    public static <C extends Record, M extends Module> M load(Path dir, String kind, Class<C> configType,
            NDManager manager, java.util.function.BiFunction<NDManager, C, M> factory) {
        C config = readConfig(dir, kind, configType);
        NDManager own = manager.newSubManager();
        try {
            M model = factory.apply(own, config);
            loadWeights(dir, model, own);
            return model;
        } catch (RuntimeException e) {
            own.close();
            throw e;
        }
    }

    /**
     * Loads {@code model.safetensors} from {@code dir} into {@code module}'s parameters (onto
     * {@code manager}). All names and shapes are checked before any parameter is replaced.
     */
    public static void loadWeights(Path dir, Module module, NDManager manager) {
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing weights file (expected " + WEIGHTS_FILE + " in " + dir + ")");
        }
        Map<String, NDArray> tensors = SafeTensors.read(file, manager).tensors();
        Map<String, Parameter> params = module.parameters();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray t = tensors.get(e.getKey());
            if (t == null) {
                problems.add("missing tensor " + e.getKey());
            } else if (!t.getShape().equals(e.getValue().array().getShape())) {
                problems.add("tensor " + e.getKey() + " has shape " + t.getShape() + " but the model expects "
                        + e.getValue().array().getShape());
            }
        }
        TreeSet<String> extra = new TreeSet<>(tensors.keySet());
        extra.removeAll(params.keySet());
        extra.forEach(n -> problems.add("unexpected tensor " + n));
        if (!problems.isEmpty()) {
            tensors.values().forEach(NDArray::close);
            String shown = String.join("; ", problems.subList(0, Math.min(5, problems.size())));
            throw new CheckpointException(file, "does not match the model config: " + shown
                    + (problems.size() > 5 ? " (and " + (problems.size() - 5) + " more)" : ""));
        }
        params.forEach((name, p) -> {
            NDArray old = p.array();
            p.set(tensors.get(name).toType(old.getDataType(), false));
            old.close();
        });
    }
}
