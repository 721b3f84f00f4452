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

    /** Makes an untrained tiny bundle at {@code dir} with {@code dalle bundle init}; fails the test if that fails. */
    static java.nio.file.Path untrainedBundle(java.nio.file.Path dir) {
        CliRun r = dalle("bundle", "init", "--out", dir.toString(), "--vocab", "400");
        org.junit.jupiter.api.Assertions.assertEquals(0, r.exit(), r.err());
        return dir;
    }
}
