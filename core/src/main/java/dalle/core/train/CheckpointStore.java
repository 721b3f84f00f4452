package dalle.core.train;

import com.google.gson.JsonParseException;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The checkpoint directories of a run and how they are replaced: a new checkpoint is written in
 * full to {@code checkpoint.tmp} (files flushed to disk), its files' SHA-256 go into
 * {@code state.json}, written last; then the latest becomes {@code checkpoint.prev} and the new one
 * is renamed to {@code checkpoint}. A crash at any point leaves the latest or the previous
 * checkpoint whole.
 *
 * <pre>
 *   checkpoint/state.json              {@link State}: step, seed, counters, run identity, file hashes
 *   checkpoint/model/                  the live weights (config.json + model.safetensors, F32)
 *   checkpoint/ema/                    the averaged weights, when the run keeps an EMA
 *   checkpoint/optimizer.safetensors   AdamW's moments ({@code name.m}, {@code name.v})
 * </pre>
 */
final class CheckpointStore {

    static final String LATEST = "checkpoint";
    static final String PREVIOUS = "checkpoint.prev";
    static final String TEMP = "checkpoint.tmp";
    static final String STATE = "state.json";
    static final String MODEL = "model";
    static final String EMA = "ema";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final int FORMAT = 1;

    /**
     * {@code state.json}.
     *
     * @param step updates done
     * @param optimizerSteps updates AdamW applied (step minus the skipped ones)
     * @param identity what a resuming run must match ({@link TrainingTask#identity()}, kind and seed)
     * @param settings what a resuming run may change ({@link TrainingTask#settings()})
     * @param files SHA-256 of every other file of the checkpoint, by path relative to it
     */
    record State(int format, String kind, long step, long totalSteps, long seed, long optimizerSteps,
                 long skippedUpdates, double wallSeconds, Map<String, String> identity, Map<String, String> settings,
                 Map<String, String> files) {}

    private CheckpointStore() {}

    /** The directory {@code --resume} reads: the latest checkpoint, else the previous one (a crash mid-rotation). */
    static Path resumable(Path out) {
        Path latest = out.resolve(LATEST);
        if (Files.isDirectory(latest)) {
            return latest;
        }
        Path previous = out.resolve(PREVIOUS);
        if (Files.isDirectory(previous)) {
            return previous;
        }
        throw new CheckpointException(latest, "no checkpoint to resume from in " + out);
    }

    /** True when {@code out} holds a checkpoint of some run. */
    static boolean exists(Path out) {
        return Files.isDirectory(out.resolve(LATEST)) || Files.isDirectory(out.resolve(PREVIOUS));
    }

    /** A fresh, empty {@code checkpoint.tmp} for the caller to fill before {@link #commit}. */
    static Path begin(Path out) throws IOException {
        Path tmp = out.resolve(TEMP);
        DurableFiles.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        return tmp;
    }

    /** Hashes and flushes the files of {@code tmp}, writes its {@code state.json}, and makes it the latest. */
    static Path commit(Path out, Path tmp, State state) throws IOException {
        Map<String, String> files = new TreeMap<>();
        for (Path f : listFiles(tmp)) {
            DurableFiles.fsync(f);
            files.put(relative(tmp, f), DurableFiles.sha256(f));
        }
        State complete = new State(FORMAT, state.kind(), state.step(), state.totalSteps(), state.seed(),
                state.optimizerSteps(), state.skippedUpdates(), state.wallSeconds(), state.identity(), state.settings(),
                files);
        Path stateFile = tmp.resolve(STATE);
        Files.writeString(stateFile, Checkpoints.GSON.toJson(complete) + "\n", StandardCharsets.UTF_8);
        DurableFiles.fsync(stateFile);
        Path latest = out.resolve(LATEST);
        Path previous = out.resolve(PREVIOUS);
        if (Files.isDirectory(latest)) {
            DurableFiles.deleteRecursively(previous);
            DurableFiles.move(latest, previous);
        }
        DurableFiles.move(tmp, latest);
        return latest;
    }

    /**
     * Reads and verifies a checkpoint's {@code state.json}: every listed file must be there with the
     * listed hash.
     *
     * @throws CheckpointException naming the file and the reason (missing, malformed, modified or truncated)
     */
    static State read(Path dir) {
        Path file = dir.resolve(STATE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing checkpoint state (" + STATE + " is written last, so the"
                    + " checkpoint is incomplete)");
        }
        State state;
        try {
            state = Checkpoints.GSON.fromJson(Files.readString(file), State.class);
        } catch (IOException | JsonParseException e) {
            throw new CheckpointException(file, "malformed checkpoint state: " + e.getMessage(), e);
        }
        if (state == null || state.identity() == null || state.settings() == null || state.files() == null
                || state.kind() == null) {
            throw new CheckpointException(file, "malformed checkpoint state: kind, identity, settings or files missing");
        }
        if (state.format() != FORMAT) {
            throw new CheckpointException(file, "unsupported checkpoint format " + state.format() + " (this build reads "
                    + FORMAT + ")");
        }
        for (Map.Entry<String, String> e : state.files().entrySet()) {
            Path f = dir.resolve(e.getKey());
            if (!Files.isRegularFile(f)) {
                throw new CheckpointException(f, "missing checkpoint file (listed in " + file + ")");
            }
            String actual;
            try {
                actual = DurableFiles.sha256(f);
            } catch (IOException ex) {
                throw new CheckpointException(f, "unreadable checkpoint file: " + ex.getMessage(), ex);
            }
            if (!actual.equals(e.getValue())) {
                throw new CheckpointException(f, "content hash " + actual + " differs from the one in " + file
                        + " (the file was modified or truncated)");
            }
        }
        return state;
    }

    /** Writes {@code dir} through a sibling temporary directory and a rename, replacing what was there. */
    static void replaceDirectory(Path dir, IoAction write) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        DurableFiles.deleteRecursively(tmp);
        write.run(tmp);
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        DurableFiles.deleteRecursively(old);
        if (Files.exists(dir)) {
            DurableFiles.move(dir, old);
        }
        DurableFiles.move(tmp, dir);
        DurableFiles.deleteRecursively(old);
    }

    /** Writes into a directory. */
    interface IoAction {
        void run(Path dir) throws IOException;
    }

    private static List<Path> listFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static String relative(Path root, Path f) {
        return root.relativize(f).toString().replace('\\', '/');
    }

}
