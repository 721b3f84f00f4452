package dalle.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model DIR}, defaulting to $DALLE_MODEL, then the shipped bundle {@code models/tiny}. */
final class ModelOption {

    /** Where the shipped tiny bundle lives in a checkout ({@code dalle.home} is set by the launcher). */
    static final Path SHIPPED = Path.of(System.getProperty("dalle.home", "."), "models", "tiny");

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Model bundle directory (default: $DALLE_MODEL, else the shipped models/tiny).")
    Path model;

    /** Whether a bundle was named ({@code --model} or $DALLE_MODEL) rather than left to the default. */
    boolean named() {
        String env = System.getenv("DALLE_MODEL");
        return model != null || (env != null && !env.isBlank());
    }

    Path resolve() {
        if (model != null) {
            return model;
        }
        String env = System.getenv("DALLE_MODEL");
        Path p = env != null && !env.isBlank() ? Path.of(env) : SHIPPED;
        if (!Files.isDirectory(p)) {
            throw new DalleCommand.UserError("no model bundle at " + p.toAbsolutePath() + ". Pass --model DIR, or make "
                    + "an untrained one for trying the mechanics: dalle bundle init --out DIR");
        }
        return p;
    }
}
