package dalle.training.cluster.train;

import com.google.gson.JsonParseException;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.PriorConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * What every worker of a distributed prior run must agree on; the coordinator writes it to
 * {@code DIR/run.json} and each worker process reads it. The data (code cache, tokenizer) are the
 * run directory's {@code codes.bin} and {@code tokenizer.json}.
 *
 * @param globalBatch examples per update over all workers; each worker takes {@code globalBatch / workers}
 * @param steps       update budget
 * @param workers     W, world size
 * @param groups      G, groups ("machines") of {@code W / G} workers: parameters are sharded inside a
 *                    group, gradients exchanged between groups
 * @param precision   {@code fp32}, {@code bf16} or {@code fp16} (see {@link PrecisionPolicy#named})
 * @param powerSgdRank rank of the gradient compression between groups; 0 = exact mean
 */
public record DistributedRun(PriorConfig config, int globalBatch, long steps, long seed, WarmupCosine schedule,
                             OptimizerSettings optimizer, float bpeDropout, int workers, int groups,
                             int checkpointEvery, String precision, int powerSgdRank) {

    /** The spec's file in the run directory. */
    public static final String FILE = "run.json";

    public DistributedRun {
        if (workers < 1 || groups < 1 || workers % groups != 0) {
            throw new IllegalArgumentException("--workers " + workers + " must be a positive multiple of --groups "
                    + groups);
        }
        if (globalBatch < 1 || globalBatch % workers != 0) {
            throw new IllegalArgumentException("batch " + globalBatch + " is not divisible by " + workers
                    + " workers (each worker takes an equal slice of the global batch)");
        }
        if (steps < 1 || checkpointEvery < 1) {
            throw new IllegalArgumentException("steps " + steps + " and checkpoint interval " + checkpointEvery
                    + " must be positive");
        }
        if (powerSgdRank < 0) {
            throw new IllegalArgumentException("PowerSGD rank must be >= 0 (0 = exact), got " + powerSgdRank);
        }
        if (!(bpeDropout >= 0 && bpeDropout <= 1)) {
            throw new IllegalArgumentException("BPE dropout must be in [0, 1], got " + bpeDropout);
        }
        if (config == null || schedule == null || optimizer == null || precision == null) {
            throw new IllegalArgumentException("config, schedule, optimizer and precision are required");
        }
    }

    /** Examples per update on one worker. */
    public int workerBatch() {
        return globalBatch / workers;
    }

    /** Workers per group (the sharding group's size). */
    public int groupSize() {
        return workers / groups;
    }

    /** Writes {@code dir/run.json} through a temporary file and a rename. */
    public Path save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.writeString(tmp, Checkpoints.GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /**
     * Reads a spec written by {@link #save}.
     *
     * @throws CheckpointException naming the file when it is missing or malformed
     */
    public static DistributedRun load(Path file) {
        try {
            DistributedRun run = Checkpoints.GSON.fromJson(Files.readString(file), DistributedRun.class);
            if (run == null) {
                throw new CheckpointException(file, "empty run spec");
            }
            return run;
        } catch (IOException | JsonParseException e) {
            throw new CheckpointException(file, "unreadable run spec: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid run spec: " + e.getMessage(), e);
        }
    }
}
