package dalle.cli;

import dalle.core.train.TrainingListener;
import dalle.training.cluster.train.PriorWorker;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalle train worker}: one worker process of a distributed prior run, launched by the coordinator. */
@Command(name = "worker", hidden = true, description = "One worker of 'dalle train prior --workers W' (launched by it).")
final class TrainWorkerCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "The run directory (run.json, codes.bin, tokenizer.json).")
    Path dir;

    @Option(names = "--rank", required = true, description = "World rank, 0..W-1.")
    int rank;

    @Option(names = "--peers", required = true, paramLabel = "HOST:PORT,...", description = "Every rank's address.")
    String peers;

    @Option(names = "--resume", description = "Continue from the run's last checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        TrainingListener listener = rank == 0 ? new TrainProgress(System.err, "prior") : TrainingListener.NONE;
        PriorWorker.run(dir, rank, Arrays.asList(peers.split(",")), resume, listener);
        if (listener instanceof TrainProgress p) {
            p.finish();
        }
        return 0;
    }
}
