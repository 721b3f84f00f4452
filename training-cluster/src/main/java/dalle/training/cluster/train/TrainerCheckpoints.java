package dalle.training.cluster.train;

import dalle.core.io.CheckpointException;
import dalle.core.train.TrainingListener;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a worker puts into, and takes back from, the run's sharded checkpoint ({@link ShardCheckpoint}
 * is the file format): per shard {@code <param>.value|.m|.v} and {@code .ema} when the run keeps an
 * average, then {@code exchange.<k>} and {@code precision.<k>}; the manifest carries the position.
 */
final class TrainerCheckpoints {

    /**
     * Where a run stands.
     *
     * @param step        updates applied
     * @param skipped     updates skipped for non-finite values (reduced precision)
     * @param wallSeconds training seconds up to this point
     */
    record Position(long step, long skipped, double wallSeconds) {}

    private final DistributedRun run;
    private final Path out;
    private final Groups groups;
    private final WorkerState state;
    private final Map<String, String> identity;

    /** @param identity what a resuming run must match (see {@link ShardCheckpoint.Manifest#identity()}) */
    TrainerCheckpoints(DistributedRun run, Path out, Groups groups, WorkerState state, Map<String, String> identity) {
        this.run = run;
        this.out = out;
        this.groups = groups;
        this.state = state;
        this.identity = Map.copyOf(identity);
    }

    /** Writes a checkpoint at {@code at}; collective over the world. Returns the committed directory. */
    Path save(Position at) throws IOException {
        List<ShardView> views = state.views();
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            tensors.put(v.name() + ".value", v.value());
            tensors.put(v.name() + ".m", v.m());
            tensors.put(v.name() + ".v", v.v());
            if (state.ema().kept()) {
                tensors.put(v.name() + ".ema", state.ema().average(k));
            }
        }
        state.exchange().state().forEach((k, a) -> tensors.put("exchange." + k, a));
        state.precision().state().forEach((k, a) -> tensors.put("precision." + k, a));
        ShardCheckpoint.Manifest m = new ShardCheckpoint.Manifest(ShardCheckpoint.FORMAT, at.step(), run.steps(),
                run.workers(), run.groups(), run.seed(), at.step() * run.globalBatch(), state.sharded().steps(),
                at.skipped(), at.wallSeconds(), identity, Map.of());
        return ShardCheckpoint.write(out, groups.world(), tensors, m);
    }

    /**
     * Every worker restores its shard from the run's resumable checkpoint; if any refuses, all fail
     * (instead of waiting on it in a collective). Collective over the world.
     *
     * @param listener told on world rank 0 where the run resumes
     * @return where the checkpoint stands
     * @throws CheckpointException naming the file and the reason, or how many other workers refused
     */
    Position restoreEverywhere(TrainingListener listener) {
        RuntimeException refused = null;
        Position at = null;
        try {
            at = restore(listener);
        } catch (RuntimeException e) {
            refused = e;
        }
        float[] refusals = {refused != null ? 1 : 0};
        groups.world().allReduceSum(refusals);
        if (refused != null) {
            throw refused;
        }
        if (refusals[0] > 0) {
            throw new CheckpointException(ShardCheckpoint.resumable(out), (int) refusals[0]
                    + " other worker(s) refused this checkpoint (their messages say why)");
        }
        return at;
    }

    private Position restore(TrainingListener listener) {
        Path dir = ShardCheckpoint.resumable(out);
        ShardCheckpoint.Manifest m = ShardCheckpoint.readManifest(dir, run.workers(), run.groups(), run.seed(), identity);
        if (m.step() > run.steps()) {
            throw new CheckpointException(dir.resolve(ShardCheckpoint.MANIFEST), "the checkpoint is at step " + m.step()
                    + ", past this run's budget of " + run.steps() + " steps");
        }
        int rank = groups.world().rank();
        Path file = dir.resolve(ShardCheckpoint.shardFile(rank));
        Map<String, float[]> saved = ShardCheckpoint.readShard(dir, m, rank);
        List<ShardView> views = state.views();
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            copy(saved, v.name() + ".value", v.value(), file);
            copy(saved, v.name() + ".m", v.m(), file);
            copy(saved, v.name() + ".v", v.v(), file);
            if (state.ema().kept()) {
                copy(saved, v.name() + ".ema", state.ema().average(k), file);
            }
        }
        state.exchange().restore(prefixed(saved, "exchange."));
        state.precision().restore(prefixed(saved, "precision."));
        state.sharded().restoreSteps(m.optimizerSteps());
        if (rank == 0) {
            listener.onNote("resuming from " + dir + " at step " + m.step() + " of " + run.steps() + " ("
                    + m.examplesSeen() + " examples seen)");
        }
        return new Position(m.step(), m.skippedUpdates(), m.wallSeconds());
    }

    private static void copy(Map<String, float[]> saved, String name, float[] into, Path file) {
        float[] a = saved.get(name);
        if (a == null) {
            throw new CheckpointException(file, "missing tensor " + name);
        }
        if (a.length != into.length) {
            throw new CheckpointException(file, "tensor " + name + " has " + a.length + " elements, expected "
                    + into.length);
        }
        System.arraycopy(a, 0, into, 0, a.length);
    }

    private static Map<String, float[]> prefixed(Map<String, float[]> saved, String prefix) {
        Map<String, float[]> out = new LinkedHashMap<>();
        saved.forEach((k, a) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), a);
            }
        });
        return out;
    }
}
