package dalle.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One service process that {@code dalle up} runs: how to start it, when it is ready, where its output goes.
 *
 * @param name a short unique name, {@code [a-z0-9-]+} (it names the pid file), e.g. "sampler"
 * @param command the full command line, program first
 * @param readyUrl an HTTP URL that answers 2xx once the service is ready, e.g. {@code /q/health/ready}
 * @param logFile where the process's stdout and stderr are appended
 * @param endpoints what clients use, by kind, e.g. {"http": "http://localhost:8080", "grpc": "localhost:8090"}
 */
record ServiceSpec(String name, List<String> command, URI readyUrl, Path logFile, Map<String, String> endpoints) {

    private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,40}");

    ServiceSpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("service name '" + name + "' is not 1..40 of [a-z0-9-]");
        }
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("service " + name + " has an empty command");
        }
        Objects.requireNonNull(readyUrl, "readyUrl");
        Objects.requireNonNull(logFile, "logFile");
        endpoints = Map.copyOf(endpoints);
    }
}
