package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import dalle.core.io.SafeTensors;
import dalle.core.nn.Module;
import dalle.core.nn.Parameter;
import dalle.core.train.Trainer;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model a finished distributed run leaves in {@code out/model/}: the weight average when the run
 * keeps one, else the weights, all-gathered in each shard group and written by world rank 0 as the
 * single-worker {@link Trainer} writes its model (same directory, safetensors + config).
 */
final class FinalModel {

    private FinalModel() {}

    /** Collective over the world: every worker gathers, rank 0 writes (through a temporary directory), all wait. */
    static void save(Path out, Groups groups, WorkerState state) throws IOException {
        int groupSize = groups.shard().worldSize();
        List<ShardView> views = state.views();
        Map<String, float[]> full = new LinkedHashMap<>();
        for (int k = 0; k < views.size(); k++) {
            ShardView v = views.get(k);
            float[] mine = state.ema().kept() ? state.ema().average(k) : v.value();
            float[] all = groups.shard().allGather(mine, mine.length * groupSize);
            full.put(v.name(), Arrays.copyOf(all, v.length()));
        }
        if (groups.world().rank() == 0) {
            Path dir = out.resolve(Trainer.MODEL_DIR);
            Path tmp = out.resolve(Trainer.MODEL_DIR + ".tmp");
            DurableFiles.deleteRecursively(tmp);
            try (NDManager scope = state.manager().newSubManager()) {
                Module model = state.task().newModel(scope);
                for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
                    Parameter p = e.getValue();
                    p.set(scope.create(full.get(e.getKey()), p.array().getShape()));
                }
                Checkpoints.save(tmp, state.task().kind(), state.task().config(), model, SafeTensors.Storage.F32);
            }
            DurableFiles.deleteRecursively(dir);
            DurableFiles.move(tmp, dir);
        }
        groups.world().barrier();
    }
}
