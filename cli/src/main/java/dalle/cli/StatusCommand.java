package dalle.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dalle status}: what {@code dalle up} runs in a data folder. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"List what `dalle up` runs in a data folder: each service's pid, whether it is ready, runs "
                + "or died, its endpoints and log file, and the broker.", "Exit code 0 when everything listed is ready, 1 otherwise (or nothing runs)."})
final class StatusCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--data", defaultValue = ".dalle/run", paramLabel = "DIR",
            description = "The data folder of `dalle up` (default ${DEFAULT-VALUE}).")
    Path data;

    @Override
    public Integer call() throws IOException {
        LocalStack stack = new LocalStack(data);
        PrintWriter out = spec.commandLine().getOut();
        List<LocalStack.Entry> entries = stack.status();
        if (entries.isEmpty()) {
            out.println("nothing runs in " + stack.dataDir() + " (start it with `dalle up`)");
            out.flush();
            return 1;
        }
        out.printf("%-10s %-8s %-36s %-46s %s%n", "name", "pid", "state", "endpoints", "log");
        boolean allUp = true;
        List<String> died = new java.util.ArrayList<>();
        for (LocalStack.Entry e : entries) {
            out.printf("%-10s %-8s %-36s %-46s %s%n", e.name(), e.pid().map(String::valueOf).orElse("-"), e.state(),
                    e.endpoint(), e.log());
            allUp &= e.state().equals("ready") || e.state().equals("serving");
            if (!e.alive()) {
                died.add(e.name());
            }
        }
        if (!died.isEmpty()) {
            out.println(String.join(", ", died) + " died (see its log); "
                    + "start what is not running with `dalle up --data " + stack.dataDir() + "`");
        }
        out.flush();
        return allUp ? 0 : 1;
    }
}
