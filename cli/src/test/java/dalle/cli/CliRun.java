package dalle.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Test helper: runs the dalle command in-process as a user would, capturing its exit code and error output. */
record CliRun(int exit, String out, String err) {

    static CliRun dalle(String... args) {
        CommandLine cli = DalleCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
