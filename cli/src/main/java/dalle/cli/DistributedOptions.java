package dalle.cli;

import dalle.core.train.OptimizerSettings;
import dalle.core.train.PriorTask;
import dalle.core.train.Trainer;
import dalle.core.train.WarmupCosine;
import dalle.core.transformer.PriorConfig;
import dalle.training.cluster.train.Coordinator;
import dalle.training.cluster.train.DistributedRun;
import dalle.training.cluster.train.PrecisionPolicy;
import dalle.training.cluster.train.PriorWorker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code dalle train prior --workers W --groups G ...}: W worker processes on this machine in G
 * groups, sharded inside a group, exchanging gradients between groups, restarted from the last
 * checkpoint when one dies or freezes ({@link Coordinator}). The workers listen on loopback only and
 * prove a random secret the coordinator draws for them.
 */
final class DistributedOptions {

    @Option(names = "--workers", defaultValue = "1", paramLabel = "W",
            description = "Worker processes on this machine; > 1 trains sharded (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--groups", defaultValue = "1", paramLabel = "G",
            description = "Groups (\\\"machines\\\") of W/G workers: sharding inside, gradient exchange between (default ${DEFAULT-VALUE}).")
    int groups;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16|fp16",
            description = "Arithmetic of the workers: fp32; bf16 (emulated: resblock weights and their gradients rounded, fp32 masters); fp16 (resblocks in fp16 with fp32 masters and the paper's per-resblock gradient scales, agreed by all workers; slow on CPUs without fp16 units) (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--powersgd-rank", defaultValue = "0", paramLabel = "R",
            description = "PowerSGD rank between groups (the paper's: fixed random Q, resblock weights); 0 = exact mean (default ${DEFAULT-VALUE}).")
    int powerSgdRank;

    @Option(names = "--peer-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "A worker whose ring neighbour makes no progress for this long fails its step naming the neighbour; the job then restarts from the last checkpoint (default ${DEFAULT-VALUE}).")
    double peerTimeout;

    @Option(names = "--max-restarts", defaultValue = "3", hidden = true,
            description = "Restarts after worker deaths before giving up (default ${DEFAULT-VALUE}).")
    int maxRestarts;

    @Option(names = "--prepare-only",
            description = {"Write the run folder (run.json, codes, tokenizer) and stop, without launching workers: for",
                    "clusters that start each worker themselves as 'dalle train worker --run DIR --rank R --peers ...'",
                    "(deploy/training does this in a Kubernetes Indexed Job)."})
    boolean prepareOnly;

    boolean distributed() {
        return workers > 1 || groups > 1;
    }

    /** Refuses what this build cannot run before any data is prepared. */
    void check() {
        try {
            PrecisionPolicy.named(precision);
        } catch (IllegalArgumentException e) {
            throw new DalleCommand.UserError(e.getMessage());
        }
        if (powerSgdRank < 0) {
            throw new DalleCommand.UserError("--powersgd-rank " + powerSgdRank + " must be >= 0 (0 = exact mean)");
        }
        if (!(peerTimeout > 0)) {
            throw new DalleCommand.UserError("--peer-timeout must be positive, got " + peerTimeout);
        }
        if (workers < 1 || groups < 1 || workers % groups != 0) {
            throw new DalleCommand.UserError("--workers " + workers + " must be a positive multiple of --groups " + groups);
        }
        if (prepareOnly && !distributed()) {
            throw new DalleCommand.UserError("--prepare-only prepares a distributed run: give --workers W > 1");
        }
    }

    /** Writes DIR/run.json and runs the workers to the end; DIR already holds codes.bin and tokenizer.json. */
    int train(TrainOptions c, PriorConfig config, int batch, WarmupCosine schedule, OptimizerSettings optimizer)
            throws IOException, InterruptedException {
        DistributedRun run;
        try {
            run = new DistributedRun(config, batch, c.steps, c.seed, schedule, optimizer, PriorTask.PAPER_BPE_DROPOUT,
                    workers, groups, c.checkpointEvery, precision, powerSgdRank);
        } catch (IllegalArgumentException e) {
            throw new DalleCommand.UserError(e.getMessage());
        }
        if (!Files.isRegularFile(c.out.resolve(PriorWorker.TOKENIZER))) {
            throw new DalleCommand.UserError("no " + PriorWorker.TOKENIZER + " in " + c.out + " for the workers");
        }
        run.save(c.out);
        if (prepareOnly) {
            System.err.printf("prior: prepared %s for %d workers in %d group(s); start each worker with%n"
                    + "  dalle train worker --run %s --rank R --peers HOST0:PORT,...,HOST%d:PORT [--resume]%n",
                    c.out, workers, groups, c.out, workers - 1);
            System.out.println(c.out);
            return 0;
        }
        System.err.printf("prior: %d workers in %d group(s) of %d, global batch %d (%d per worker), %d steps, seed %d,"
                        + " %s, exchange %s -> %s%n", workers, groups, run.groupSize(), batch, run.workerBatch(), c.steps,
                c.seed, precision, powerSgdRank == 0 ? "exact mean" : "PowerSGD rank " + powerSgdRank, c.out);
        Coordinator coordinator = new Coordinator(workerCommand(peerTimeout), c.out, workers, maxRestarts,
                System.err::println);
        try {
            coordinator.run(c.resume);
        } catch (IllegalStateException e) {
            throw new DalleCommand.UserError(e.getMessage());
        }
        System.out.println(c.out.resolve(Trainer.MODEL_DIR));
        return 0;
    }

    /**
     * This JVM's java, memory limit, libtorch thread count and classpath, then {@code train worker} with the
     * peer timeout. The workers listen on loopback (the default) and get the coordinator's random secret in
     * their environment.
     */
    private static List<String> workerCommand(double peerTimeout) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + Math.max(256, Runtime.getRuntime().maxMemory() / (1 << 20) / 2) + "m");
        cmd.add("-Dai.djl.pytorch.num_threads=" + System.getProperty("ai.djl.pytorch.num_threads", "1"));
        cmd.add("-Dai.djl.offline=true");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DalleCommand.class.getName(), "train", "worker",
                "--peer-timeout", Double.toString(peerTimeout)));
        return cmd;
    }
}
