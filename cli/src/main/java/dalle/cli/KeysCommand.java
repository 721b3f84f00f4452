package dalle.cli;

import dalle.services.common.auth.ApiKeys;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalle keys create --tenant T}: a new gateway API key. Prints the key (shown once; only its hash is kept)
 * and the keys-file line, or appends the line to {@code --keys-file} (for {@code kubectl create secret}).
 */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Gateway API keys.",
        subcommands = {KeysCommand.Create.class})
final class KeysCommand implements Runnable {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create an API key of a tenant: prints the key once and its keys-file line (a hash).")
    static final class Create implements Callable<Integer> {

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--tenant", required = true, description = "The key's tenant: 1..32 of [a-z0-9-].")
        String tenant;

        @Option(names = "--label", description = "A note kept beside the hash (who holds the key).")
        String label;

        @Option(names = "--keys-file", description = "Append the line to this keys file (created when missing).")
        Path keysFile;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            String key = ApiKeys.newKey();
            String line;
            try {
                line = ApiKeys.line(key, tenant, label);
            } catch (IllegalArgumentException e) {
                throw new DalleCommand.UserError("--tenant: " + e.getMessage());
            }
            if (keysFile != null) {
                Files.writeString(keysFile, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
                ApiKeys.read(keysFile); // the file still loads as the gateway reads it
                out.println("added tenant " + tenant + "'s key to " + keysFile);
            } else {
                out.println("keys-file line: " + line);
            }
            out.println("API key (shown once, keep it secret): " + key);
            return 0;
        }
    }
}
