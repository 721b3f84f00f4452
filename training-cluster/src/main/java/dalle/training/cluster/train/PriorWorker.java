package dalle.training.cluster.train;

import dalle.training.cluster.comm.Collectives;
import dalle.training.cluster.comm.Groups;
import dalle.training.cluster.comm.ClusterSecret;
import dalle.training.cluster.comm.TcpCollectives;
import dalle.training.cluster.comm.TcpSettings;
import dalle.training.cluster.shard.ShardedParameters.ShardView;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.train.CodeCache;
import dalle.core.train.StepMetrics;
import dalle.core.train.NonFiniteUpdateException;
import dalle.core.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * One worker process of a distributed prior run: reads {@code DIR/run.json}, {@code DIR/codes.bin}
 * and {@code DIR/tokenizer.json}, joins the TCP ring ({@link TcpCollectives}) and trains to the end
 * of the budget. {@link Coordinator} launches W of these.
 * <pre>
 *   java -cp ... dalle.training.cluster.train.PriorWorker --run DIR --rank R --peers host:port,host:port,...
 *        [--bind HOST] [--peer-timeout SECONDS] [--resume]
 * </pre>
 * The cluster secret comes from the environment ({@link ClusterSecret#fromEnvironment}). Exit code 0
 * when the run is finished, 2 for bad arguments or a missing secret, {@link NonFiniteUpdateException#EXIT_CODE}
 * at a non-finite fp32 update, 1 on any other failure (the message on stderr).
 */
public final class PriorWorker {

    /** The code cache and tokenizer files a run directory must hold. */
    public static final String CODES = CodeCache.FILE;
    public static final String TOKENIZER = "tokenizer.json";

    private PriorWorker() {}

    /**
     * Trains as world rank {@code rank} of the run in {@code dir}.
     *
     * @param peers every rank's {@code host:port}, the same list on every worker
     * @param transport where this rank listens, the job's secret and the timeouts
     * @param resume continue from the run's last checkpoint when there is one
     */
    public static DistributedTrainer.Result run(Path dir, int rank, List<String> peers, TcpSettings transport,
                                                boolean resume, TrainingListener listener) throws IOException {
        DistributedRun run = DistributedRun.load(dir.resolve(DistributedRun.FILE));
        if (peers.size() != run.workers()) {
            throw new IllegalArgumentException(peers.size() + " peers given for a run of " + run.workers() + " workers");
        }
        PrecisionPolicy precision = PrecisionPolicy.named(run.precision());
        CodeCache codes = CodeCache.load(dir.resolve(CODES));
        BpeTokenizer tokenizer = BpeTokenizer.load(dir.resolve(TOKENIZER));
        try (Collectives world = TcpCollectives.connect(rank, peers, transport)) {
            Groups groups = Groups.machines(world, run.groupSize());
            try (DistributedTrainer trainer = DistributedTrainer.builder().setRun(run).setOutput(dir).setGroups(groups)
                    .setData(codes, tokenizer).optPrecision(precision).optResume(resume).optListener(listener).build()) {
                DistributedTrainer.Result result = trainer.run();
                if (rank == 0) {
                    listener.onNote(traffic(trainer.exchange().name(), result));
                }
                return result;
            }
        }
    }

    /**
     * The exchange between groups the run asks for: the exact mean for {@code powerSgdRank} 0, else
     * the paper's PowerSGD ({@link ShardPowerSgd#paper}: fixed random Q, seeded by the run's seed) on
     * this worker's shards.
     */
    public static ReplicaExchange exchange(DistributedRun run, Groups groups, List<ShardView> shards) {
        if (run.powerSgdRank() > 0) {
            return ShardPowerSgd.paper(groups.replica(), run.powerSgdRank(), run.seed(), shards);
        }
        return ReplicaExchange.exactMean(groups.replica());
    }

    /** One line: bytes this worker sent between groups and the dense equivalent. */
    public static String traffic(String exchange, DistributedTrainer.Result result) {
        if (result.denseBytes() == 0) {
            return "exchange " + exchange + ": nothing sent between groups (one group)";
        }
        return String.format(java.util.Locale.ROOT, "exchange %s: %d of %d dense bytes sent between groups by this"
                        + " worker (%.1f%%, %.2fx fewer)", exchange, result.sentBytes(), result.denseBytes(),
                100.0 * result.sentBytes() / result.denseBytes(), (double) result.denseBytes() / result.sentBytes());
    }

    public static void main(String[] args) {
        Path dir = null;
        int rank = -1;
        List<String> peers = List.of();
        boolean resume = false;
        String bind = TcpSettings.LOOPBACK;
        Duration peerTimeout = TcpSettings.DEFAULT_PEER_TIMEOUT;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--run" -> dir = Path.of(args[++i]);
                case "--rank" -> rank = Integer.parseInt(args[++i]);
                case "--peers" -> peers = Arrays.asList(args[++i].split(","));
                case "--bind" -> bind = args[++i];
                case "--peer-timeout" -> peerTimeout = Duration.ofMillis(Math.round(1000 * Double.parseDouble(args[++i])));
                case "--resume" -> resume = true;
                default -> {
                    System.err.println("worker: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (dir == null || rank < 0 || peers.isEmpty()) {
            System.err.println("usage: PriorWorker --run DIR --rank R --peers host:port,... [--bind HOST]"
                    + " [--peer-timeout SECONDS] [--resume]   (secret: $" + ClusterSecret.FILE_ENV + " or $"
                    + ClusterSecret.ENV + ")");
            System.exit(2);
        }
        int r = rank;
        TcpSettings transport;
        try {
            transport = TcpSettings.of(ClusterSecret.fromEnvironment(System.getenv())).withBindHost(bind)
                    .withPeerTimeout(peerTimeout).withLog(line -> System.err.println("worker " + r + ": " + line));
        } catch (IllegalArgumentException e) {
            System.err.println("worker " + rank + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            DistributedTrainer.Result result = run(dir, rank, peers, transport, resume, lines("worker " + r));
            if (rank == 0) {
                System.err.printf("worker 0: finished at step %d, loss %.6f%n", result.step(), result.lastLoss());
            }
            System.exit(0);
        } catch (NonFiniteUpdateException e) {
            System.err.println("worker " + rank + ": " + e.getMessage());
            System.exit(NonFiniteUpdateException.EXIT_CODE);
        } catch (Exception e) {
            System.err.println("worker " + rank + ": " + e);
            System.exit(1);
        }
    }

    /** A listener printing a line every 10 updates and per checkpoint (rank 0 is the only caller). */
    public static TrainingListener lines(String name) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() % 10 != 0 && m.step() != m.totalSteps()) {
                    return;
                }
                System.err.printf("%s: step %d/%d loss %.4f lr %.2e%s%n", name, m.step(), m.totalSteps(), m.loss(),
                        m.lr(), m.skipped() ? " (skipped)" : "");
            }

            @Override
            public void onCheckpoint(long step, Path dir) {
                System.err.printf("%s: checkpoint at step %d in %s%n", name, step, dir);
            }

            @Override
            public void onNote(String message) {
                System.err.println(name + ": " + message);
            }
        };
    }
}
