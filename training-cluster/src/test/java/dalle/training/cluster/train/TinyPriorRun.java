package dalle.training.cluster.train;

import ai.djl.ndarray.NDManager;
import dalle.core.data.shapes.ShapesDataset;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.OptimizerSettings;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.PriorConfig;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.InProcessCollectives;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.function.Function;
import java.util.List;

/** A prior small enough to train for 50 steps in seconds: 32 wide, 2 layers, 8 text + 16 image tokens. */
final class TinyPriorRun {

    static final DvaeConfig DVAE = new DvaeConfig(32, 4, 64, 8, 1, 8);
    static final float LR = 3e-3f;

    private TinyPriorRun() {}

    static BpeTokenizer tokenizer() {
        ShapesDataset shapes = ShapesDataset.train(1, DVAE.imageSize());
        List<String> captions = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            captions.add(shapes.caption(i).text());
        }
        return BpeTokenizer.train(captions, 300);
    }

    /** Codes of 64 shapes from an untrained dVAE. */
    static CodeCache codes() {
        try (NDManager scope = NDManager.newBaseManager()) {
            Dvae dvae = new Dvae(scope, DVAE, 5);
            return CodeCache.build(dvae, "untrained-seed-5",
                    ShapesDataset.train(1, DVAE.imageSize()).examples(0, 64).iterator(), 64, "shapes:test", scope,
                    n -> { });
        }
    }

    static PriorConfig config(BpeTokenizer tokenizer) {
        return new PriorConfig(tokenizer.vocabSize(), 8, tokenizer.padId(), 64, 4, 32, 2, 2, 3, 2);
    }

    static WarmupCosine schedule() {
        return new WarmupCosine(LR, 0.1, 0.1f);
    }

    /** The paper's AdamW and clip with a short EMA. */
    static OptimizerSettings optimizer() {
        return OptimizerSettings.priorPaper().withEmaDecay(0.9f);
    }

    static DistributedRun run(BpeTokenizer tokenizer, int batch, long steps, long seed, int workers, int groups,
                              int checkpointEvery, float bpeDropout) {
        return run(tokenizer, batch, steps, seed, workers, groups, checkpointEvery, bpeDropout, "fp32", 0);
    }

    static DistributedRun run(BpeTokenizer tokenizer, int batch, long steps, long seed, int workers, int groups,
                              int checkpointEvery, float bpeDropout, String precision, int powerSgdRank) {
        return new DistributedRun(config(tokenizer), batch, steps, seed, schedule(), optimizer(), bpeDropout, workers,
                groups, checkpointEvery, precision, powerSgdRank);
    }

    /**
     * Every worker's result of training {@code run} in {@code out} until {@code until} steps, the workers
     * threads of this JVM, in the run's precision, with the exchange {@code exchange} builds per worker.
     */
    static List<DistributedTrainer.Result> train(DistributedRun run, Path out, long until, boolean resume,
                                                 CodeCache codes, BpeTokenizer tokenizer,
                                                 Function<Groups, Function<List<ShardView>, ReplicaExchange>> exchange) {
        return InProcessCollectives.runOnThreads(run.workers(), world -> {
            Groups g = Groups.machines(world, run.groupSize());
            try (DistributedTrainer t = DistributedTrainer.builder().setRun(run).setOutput(out).setGroups(g)
                    .setData(codes, tokenizer).optExchange(exchange.apply(g)).optResume(resume).build()) {
                return t.run(until);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The exact mean between groups, for {@link #train}. */
    static Function<Groups, Function<List<ShardView>, ReplicaExchange>> exact() {
        return g -> shards -> ReplicaExchange.exactMean(g.replica());
    }

    /** The loss of each update of a result. */
    static List<Float> losses(DistributedTrainer.Result r) {
        List<Float> out = new ArrayList<>();
        r.steps().forEach(s -> out.add(s.loss()));
        return out;
    }
}
