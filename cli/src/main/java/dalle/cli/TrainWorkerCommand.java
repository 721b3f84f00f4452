package dalle.cli;

import dalle.core.train.TrainingListener;
import dalle.training.cluster.comm.ClusterSecret;
import dalle.training.cluster.comm.TcpSettings;
import dalle.training.cluster.train.PriorWorker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalle train worker}: one worker process of a distributed prior run, launched by the coordinator
 * ({@code dalle train prior --workers W}) or, on a cluster, by the launch script of deploy/training. It
 * listens on {@code --bind} only and admits only peers that prove the job's cluster secret.
 */
@Command(name = "worker", hidden = true, description = "One worker of 'dalle train prior --workers W' (launched by it).")
final class TrainWorkerCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "The run directory (run.json, codes.bin, tokenizer.json).")
    Path dir;

    @Option(names = "--rank", required = true, description = "World rank, 0..W-1.")
    int rank;

    @Option(names = "--peers", required = true, paramLabel = "HOST:PORT,...", description = "Every rank's address.")
    String peers;

    @Option(names = "--bind", defaultValue = TcpSettings.LOOPBACK, paramLabel = "HOST",
            description = "The interface to listen on, the address peers reach this rank at (the pod IP on Kubernetes; default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--peer-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "A ring read or write without progress for this long fails the step naming the peer (default ${DEFAULT-VALUE}).")
    double peerTimeout;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding the job's cluster secret; default: $" + ClusterSecret.FILE_ENV + ", else $" + ClusterSecret.ENV + ".")
    Path secretFile;

    @Option(names = "--resume", description = "Continue from the run's last checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (!(peerTimeout > 0)) {
            throw new DalleCommand.UserError("--peer-timeout must be positive, got " + peerTimeout);
        }
        ClusterSecret secret = secretFile != null ? ClusterSecret.fromFile(secretFile)
                : ClusterSecret.fromEnvironment(System.getenv());
        TcpSettings transport = TcpSettings.of(secret).withBindHost(bind)
                .withPeerTimeout(Duration.ofMillis(Math.round(peerTimeout * 1000)))
                .withLog(line -> System.err.println("worker " + rank + ": " + line));
        TrainingListener listener = rank == 0 ? new TrainProgress(System.err, "prior") : TrainingListener.NONE;
        PriorWorker.run(dir, rank, Arrays.asList(peers.split(",")), transport, resume, listener);
        if (listener instanceof TrainProgress p) {
            p.finish();
        }
        return 0;
    }
}
