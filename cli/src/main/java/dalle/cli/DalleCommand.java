package dalle.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code dalle} command. */
@Command(name = "dalle", mixinStandardHelpOptions = true, version = "dalle-jvm 0.1.0",
        description = "DALL-E style zero-shot text-to-image generation on the JVM.",
        subcommands = {GenerateCommand.class, TrainCommand.class, EvalCommand.class, BundleCommand.class, DataCommand.class,
                BenchCommand.class, PlanCommand.class, TopicsCommand.class, UpCommand.class, DownCommand.class,
                StatusCommand.class, KeysCommand.class, CommandLine.HelpCommand.class})
public final class DalleCommand implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its error handling, for {@link #main} and tests. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DalleCommand());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Bad input and unusable files are the user's to fix: one clear line, no stack trace.
            if (e instanceof IllegalArgumentException || e instanceof dalle.core.io.CheckpointException
                    || e instanceof java.io.IOException || e instanceof UserError
                    || e instanceof dalle.core.data.readers.DataSourceException) {
                commandLine.getErr().println("dalle: " + e.getMessage());
                return 2;
            }
            if (e instanceof dalle.core.train.NonFiniteUpdateException) {
                commandLine.getErr().println("dalle: " + e.getMessage());
                return dalle.core.train.NonFiniteUpdateException.EXIT_CODE;
            }
            throw e;
        });
        return cli;
    }

    /** A failure whose message is the whole story for the user. */
    static final class UserError extends RuntimeException {
        UserError(String message) {
            super(message);
        }
    }
}
