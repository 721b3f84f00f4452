package dalle.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dalle down}: stops what {@code dalle up} started, services first, then the broker. */
@Command(name = "down", mixinStandardHelpOptions = true,
        description = {"Stop what `dalle up` started in a data folder: the services, then the Kafka broker.",
                "SIGTERM first, SIGKILL after the grace period; pid files are removed. Data and logs stay."})
final class DownCommand implements Callable<Integer> {

    /** Default grace period between SIGTERM and SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(20);

    @Spec CommandSpec spec;

    @Option(names = "--data", defaultValue = ".dalle/run", paramLabel = "DIR",
            description = "The data folder of `dalle up` (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--grace", defaultValue = "20", paramLabel = "SECONDS",
            description = "How long each process may take to stop before it is killed (default ${DEFAULT-VALUE} s).")
    int graceSeconds;

    @Override
    public Integer call() throws IOException {
        if (graceSeconds < 0) {
            throw new IllegalArgumentException("--grace " + graceSeconds + " is negative");
        }
        LocalStack stack = new LocalStack(data);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Supervisor.StopOutcome> outcomes = stack.down(Duration.ofSeconds(graceSeconds));
        if (outcomes.isEmpty()) {
            out.println("nothing to stop in " + stack.dataDir());
        }
        outcomes.forEach((name, outcome) -> out.printf("%-10s %s%n", name, switch (outcome) {
            case STOPPED -> "stopped";
            case KILLED -> "killed (did not stop within " + graceSeconds + " s)";
            case NOT_RUNNING -> "was not running (stale pid file removed)";
        }));
        out.flush();
        return 0;
    }
}
