package dalle.training.cluster.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParseException;
import dalle.training.cluster.comm.Collectives;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import dalle.core.io.SafeTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sharded checkpoints of a distributed run: every worker writes its own shard file, then rank 0
 * writes the manifest — last — and renames the directory into place.
 * <pre>
 *   DIR/checkpoint/manifest.json              {@link Manifest}: step, W, G, seed, data position, run identity, file hashes
 *   DIR/checkpoint/shard-00000.safetensors    rank 0's slice: {@code <param>.value|.m|.v|.ema}, {@code exchange.<k>}, {@code precision.<k>}
 *   ...                                       one file per world rank (replicas in other groups hold their own copy)
 * </pre>
 * Writing goes to {@code checkpoint.tmp}; the manifest lists the SHA-256 of every shard and is written
 * and flushed after them; then {@code checkpoint} becomes {@code checkpoint.prev} and the new one
 * {@code checkpoint}. A worker killed at any point leaves the previous checkpoint whole, and a
 * directory without a manifest is never read. The directory names are the single-worker
 * {@code Trainer}'s, so `dalle train` refuses to start over either kind of run without {@code --resume}.
 */
public final class ShardCheckpoint {

    public static final String LATEST = "checkpoint";
    public static final String PREVIOUS = "checkpoint.prev";
    public static final String TEMP = "checkpoint.tmp";
    public static final String MANIFEST = "manifest.json";
    public static final int FORMAT = 1;

    /**
     * {@code manifest.json}.
     *
     * @param examplesSeen the data position: {@code step × globalBatch} (the data are a function of seed and step)
     * @param identity what a resuming run must match (config, batch, data, tokenizer, exchange, precision)
     * @param files SHA-256 of each shard file, by file name
     */
    public record Manifest(int format, long step, long totalSteps, int workers, int groups, long seed,
                           long examplesSeen, long optimizerSteps, long skippedUpdates, double wallSeconds,
                           Map<String, String> identity, Map<String, String> files) {}

    private ShardCheckpoint() {}

    /** The shard file of world rank {@code rank}. */
    public static String shardFile(int rank) {
        return String.format("shard-%05d.safetensors", rank);
    }

    /** True when {@code out} holds a committed checkpoint (latest or previous). */
    public static boolean exists(Path out) {
        return Files.isRegularFile(out.resolve(LATEST).resolve(MANIFEST))
                || Files.isRegularFile(out.resolve(PREVIOUS).resolve(MANIFEST));
    }

    /** The directory a resume reads: the latest checkpoint with a manifest, else the previous one. */
    public static Path resumable(Path out) {
        for (String name : new String[] {LATEST, PREVIOUS}) {
            if (Files.isRegularFile(out.resolve(name).resolve(MANIFEST))) {
                return out.resolve(name);
            }
        }
        throw new CheckpointException(out.resolve(LATEST).resolve(MANIFEST), "no committed sharded checkpoint in "
                + out);
    }

    /**
     * Writes one checkpoint; collective over {@code world} (every rank calls it with its own tensors).
     *
     * @param tensors this rank's shard state, 1-D float arrays by name
     * @param manifest the run-wide fields ({@code files} is filled in here)
     * @return the committed directory
     */
    public static Path write(Path out, Collectives world, Map<String, float[]> tensors, Manifest manifest)
            throws IOException {
        Path tmp = out.resolve(TEMP);
        if (world.rank() == 0) {
            DurableFiles.deleteRecursively(tmp);
            Files.createDirectories(tmp);
        }
        world.barrier();
        Path shard = tmp.resolve(shardFile(world.rank()));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            tensors.forEach((name, data) -> arrays.put(name, m.create(data)));
            SafeTensors.write(shard, arrays, Map.of("rank", Integer.toString(world.rank()),
                    "step", Long.toString(manifest.step())), SafeTensors.Storage.F32);
        }
        DurableFiles.fsync(shard);
        world.barrier();
        Path latest = out.resolve(LATEST);
        if (world.rank() == 0) {
            Map<String, String> files = new TreeMap<>();
            for (int r = 0; r < world.worldSize(); r++) {
                files.put(shardFile(r), DurableFiles.sha256(tmp.resolve(shardFile(r))));
            }
            Manifest complete = new Manifest(FORMAT, manifest.step(), manifest.totalSteps(), manifest.workers(),
                    manifest.groups(), manifest.seed(), manifest.examplesSeen(), manifest.optimizerSteps(),
                    manifest.skippedUpdates(), manifest.wallSeconds(), manifest.identity(), files);
            Path file = tmp.resolve(MANIFEST);
            Files.writeString(file, Checkpoints.GSON.toJson(complete) + "\n", StandardCharsets.UTF_8);
            DurableFiles.fsync(file);
            Path previous = out.resolve(PREVIOUS);
            if (Files.isDirectory(latest)) {
                DurableFiles.deleteRecursively(previous);
                DurableFiles.move(latest, previous);
            }
            DurableFiles.move(tmp, latest);
        }
        world.barrier();
        return latest;
    }

    /**
     * Reads and checks the manifest of {@code dir} against this run.
     *
     * @param expected identity of this run; every entry must match
     * @throws CheckpointException naming the manifest and the reason (malformed, other W/G/seed/identity)
     */
    public static Manifest readManifest(Path dir, int workers, int groups, long seed, Map<String, String> expected) {
        Path file = dir.resolve(MANIFEST);
        Manifest m = parse(dir);
        if (m.workers() != workers || m.groups() != groups) {
            throw new CheckpointException(file, "the checkpoint was written by " + m.workers() + " workers in "
                    + m.groups() + " groups; this run has " + workers + " workers in " + groups + " groups");
        }
        if (m.seed() != seed) {
            throw new CheckpointException(file, "the checkpoint's seed is " + m.seed() + ", this run's is " + seed);
        }
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String then = m.identity().get(e.getKey());
            if (!e.getValue().equals(then)) {
                throw new CheckpointException(file, "the checkpoint was made by a different run: its " + e.getKey()
                        + " is " + then + ", this run's is " + e.getValue());
            }
        }
        return m;
    }

    /**
     * The resumable checkpoint of {@code out}, its manifest parsed and every shard's hash checked (what
     * the coordinator does before restarting workers from it).
     *
     * @throws CheckpointException naming the file and the reason
     */
    public static Manifest verify(Path out) {
        Path dir = resumable(out);
        Manifest m = parse(dir);
        verifyShards(dir, m);
        return m;
    }

    private static Manifest parse(Path dir) {
        Path file = dir.resolve(MANIFEST);
        Manifest m;
        try {
            m = Checkpoints.GSON.fromJson(Files.readString(file), Manifest.class);
        } catch (IOException | JsonParseException e) {
            throw new CheckpointException(file, "malformed checkpoint manifest: " + e.getMessage(), e);
        }
        if (m == null || m.identity() == null || m.files() == null) {
            throw new CheckpointException(file, "malformed checkpoint manifest: identity or files missing");
        }
        if (m.format() != FORMAT) {
            throw new CheckpointException(file, "unsupported manifest format " + m.format() + " (this build reads "
                    + FORMAT + ")");
        }
        if (m.files().size() != m.workers()) {
            throw new CheckpointException(file, "the manifest lists " + m.files().size() + " shards for "
                    + m.workers() + " workers");
        }
        return m;
    }

    /**
     * Checks every shard file listed in {@code manifest} exists with its hash.
     *
     * @throws CheckpointException naming the shard and the reason
     */
    public static void verifyShards(Path dir, Manifest manifest) {
        manifest.files().keySet().forEach(name -> verifyShard(dir, manifest, name));
    }

    /**
     * Reads world rank {@code rank}'s shard after checking its hash against the manifest.
     *
     * @throws CheckpointException naming the shard file: missing, modified or truncated, unreadable
     */
    public static Map<String, float[]> readShard(Path dir, Manifest manifest, int rank) {
        Path file = verifyShard(dir, manifest, shardFile(rank));
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensors.read(file, m).tensors().forEach((name, a) -> out.put(name, a.toFloatArray()));
        } catch (RuntimeException e) {
            throw new CheckpointException(file, "unreadable shard: " + e.getMessage(), e);
        }
        return out;
    }

    private static Path verifyShard(Path dir, Manifest manifest, String name) {
        Path file = dir.resolve(name);
        String expected = manifest.files().get(name);
        if (expected == null) {
            throw new CheckpointException(file, "shard not listed in " + dir.resolve(MANIFEST));
        }
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing shard (listed in " + dir.resolve(MANIFEST) + ")");
        }
        String actual;
        try {
            actual = DurableFiles.sha256(file);
        } catch (IOException e) {
            throw new CheckpointException(file, "unreadable shard: " + e.getMessage(), e);
        }
        if (!actual.equals(expected)) {
            throw new CheckpointException(file, "content hash " + actual + " differs from the manifest's " + expected
                    + " (the shard was modified or truncated)");
        }
        return file;
    }

}
