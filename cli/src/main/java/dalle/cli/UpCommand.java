package dalle.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dalle up}: Kafka and the five services on this machine, running on after the command returns. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Start a real Kafka broker (KRaft, own JVM) and the services (tokenizer, sampler, decoder, "
                + "reranker, gateway), each its own process, detached: they keep running after this command.",
                "Waits until each is ready, then prints the endpoints and examples. Stop with `dalle down`."})
final class UpCommand implements Callable<Integer> {

    /** Where {@code dalle up} makes an untrained bundle when no trained one is there (under --data). */
    static final String UNTRAINED = "untrained-tiny";

    /** The checkout's services folder: each service's quarkus-app under {@code <name>/target/}. */
    static final Path SERVICES_DIR = Path.of(System.getProperty("dalle.home", "."), "services");

    @Spec CommandSpec spec;

    @Mixin ModelOption model;

    @Option(names = "--data", defaultValue = ".dalle/run", paramLabel = "DIR",
            description = "Where the broker's data, logs, pid files and run.json live (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--kafka-port", defaultValue = "9092", paramLabel = "PORT",
            description = "The broker's client port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--base-port", defaultValue = "8080", paramLabel = "PORT",
            description = "First service port (default ${DEFAULT-VALUE}): HTTP on PORT+0..4 (gateway, tokenizer, "
                    + "sampler, decoder, reranker), gRPC on PORT+10..14.")
    int basePort;

    @Option(names = "--services", paramLabel = "DIR",
            description = "The folder of the five services' builds, <service>/target/quarkus-app/quarkus-run.jar "
                    + "(default: services/ of this checkout).")
    Path servicesDir;

    @Option(names = "--service-jvm-options", defaultValue = "-Xmx2g -Dai.djl.offline=true "
            + "-Dai.djl.pytorch.num_threads=1", paramLabel = "OPTS",
            description = "JVM options of each service, space-separated (default: ${DEFAULT-VALUE}).")
    String serviceJvmOptions;

    @Option(names = "--timeout", defaultValue = "180", paramLabel = "SECONDS",
            description = "How long to wait for every service to be ready (default ${DEFAULT-VALUE} s).")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        if (kafkaPort < 1 || kafkaPort > 65535) {
            throw new IllegalArgumentException("--kafka-port " + kafkaPort + " is outside 1..65535");
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("--timeout " + timeoutSeconds + " is below 1 second");
        }
        Path services = servicesDir != null ? servicesDir : SERVICES_DIR;
        requireBuilt(services);
        List<String> jvmOptions = Arrays.stream(serviceJvmOptions.strip().split("\\s+"))
                .filter(s -> !s.isEmpty()).toList();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        LocalStack stack = new LocalStack(data);
        LocalKeys.ensure(stack.dataDir());
        PrintWriter out = spec.commandLine().getOut();
        Path bundle = bundle(model, stack.dataDir(), out);
        List<String> running = stack.running();
        out.println(running.isEmpty() ? "dalle up: starting Kafka and " + Services.SERVICES.size() + " services in "
                + stack.dataDir() + " ..." : "dalle up: " + String.join(", ", running) + " run already in "
                + stack.dataDir() + "; starting what is not running ...");
        out.flush();
        LocalStack.Up up = stack.up(kafkaPort, bootstrap -> Services.specs(java, jvmOptions, Map.of(), services,
                bundle, bootstrap, basePort, stack.logDir(), stack.dataDir().resolve("gateway-state")),
                Duration.ofSeconds(timeoutSeconds), DownCommand.GRACE);
        if (!up.kept().isEmpty()) {
            out.println("started again: " + (up.started().isEmpty() ? "nothing (everything runs)"
                    : String.join(", ", up.started())) + "; left running: " + String.join(", ", up.kept()));
        }
        print(out, up.state(), basePort);
        out.flush();
        return 0;
    }

    /**
     * @throws DalleCommand.UserError naming the first service whose quarkus-run.jar is missing, and how to build it
     */
    static void requireBuilt(Path servicesDir) {
        for (String service : Services.SERVICES.keySet()) {
            Path jar = Services.jar(servicesDir, service);
            if (!Files.isRegularFile(jar)) {
                throw new DalleCommand.UserError("no " + service + " service at " + jar.toAbsolutePath() + ": build"
                        + " the services with `mvn -B -q -DskipTests -pl services/tokenizer,services/sampler,"
                        + "services/decoder,services/reranker,services/gateway -am package`, or pass --services DIR");
            }
        }
    }

    /**
     * The bundle to serve: the one named by --model / $DALLE_MODEL, else the shipped models/tiny, else an
     * untrained tiny bundle made (once) under the data folder, said loudly: its images are noise.
     */
    static Path bundle(ModelOption model, Path dataDir, PrintWriter out) throws Exception {
        if (model.named() || Files.isDirectory(ModelOption.SHIPPED)) {
            return model.resolve();
        }
        Path untrained = dataDir.resolve(UNTRAINED);
        out.println("dalle: no trained bundle at " + ModelOption.SHIPPED.toAbsolutePath().normalize()
                + " yet: the services serve an UNTRAINED bundle (" + untrained + "). Its images are NOISE until the shipped"
                + " model lands (or pass --model DIR).");
        out.flush();
        if (!Files.exists(untrained.resolve(dalle.core.bundle.BundleManifest.FILE))) {
            BundleCommand.untrainedShapes(untrained, 1, 1024, 20_000);
        }
        return untrained;
    }

    /** The endpoints and copy-paste examples (HTTP, gRPC, Kafka). */
    static void print(PrintWriter out, RunState state, int basePort) {
        out.println("dalle is up. Stop it with: dalle down --data " + state.dataDir());
        out.printf("  %-10s %-46s %s%n", "kafka", state.kafka().bootstrap(), "log " + state.kafka().log());
        for (RunState.Service s : state.services()) {
            out.printf("  %-10s %-46s %s%n", s.name(), LocalStack.endpoints(s), "log " + s.log());
        }
        int http = Services.httpPort(basePort, "gateway");
        int grpc = Services.grpcPort(basePort, "gateway");
        String kafka = state.kafka().bootstrap();
        out.println();
        out.println("The gateway needs an API key (tenant " + LocalKeys.TENANT + "; more with dalle keys create):");
        out.println("  export DALLE_API_KEY=$(cat " + Path.of(state.dataDir()).resolve(LocalKeys.KEY_FILE) + ")");
        out.println("HTTP (OpenAI Images API):");
        out.println("  curl -s http://localhost:" + http + "/v1/images/generations -H \"Authorization: Bearer "
                + "$DALLE_API_KEY\" \\");
        out.println("    -H 'Content-Type: application/json' -d '{\"prompt\": \"a small red circle above a blue "
                + "square\", \"n\": 2}'");
        out.println("  curl -s http://localhost:" + http + "/v1/jobs -H \"Authorization: Bearer $DALLE_API_KEY\" "
                + "-H 'Content-Type: application/json' \\");
        out.println("    -d '{\"prompt\": \"a green triangle\", \"request_id\": \"job-1\"}'   # then:");
        out.println("  curl -s http://localhost:" + http + "/v1/jobs/job-1 -H \"Authorization: Bearer $DALLE_API_KEY\"");
        out.println("gRPC (from the checkout: the server needs no reflection with -proto):");
        out.println("  grpcurl -plaintext -H \"authorization: Bearer $DALLE_API_KEY\" -import-path proto/src/main/proto"
                + " -proto dalle/v1/gateway.proto \\");
        out.println("    -d '{\"caption\": \"a small red circle above a blue square\", \"candidates\": 8, "
                + "\"top_k\": 2}' localhost:" + grpc + " dalle.v1.Gateway/Generate");
        out.println("Kafka (protobuf values, dalle/v1/events.proto; key = request id):");
        out.println("  echo 'request_id: \"req-1\" caption: \"a small red circle\" candidates: 8 top_k: 2' \\");
        out.println("    | protoc -I proto/src/main/proto --encode=dalle.v1.GenerationRequest dalle/v1/events.proto"
                + " > req-1.bin");
        out.println("  kcat -P -b " + kafka + " -t generation-requests -k req-1 req-1.bin");
        out.println("  kcat -C -b " + kafka + " -t generation-results -X isolation.level=read_committed -e "
                + "-f '%k: %S bytes\\n'");
        out.println("  kcat -C -b " + kafka + " -t generation-results -X isolation.level=read_committed -e -c 1 "
                + "-f '%s' | protoc -I proto/src/main/proto --decode=dalle.v1.GenerationResult "
                + "dalle/v1/events.proto | grep -v png");
        out.println("  (or any Kafka client: produce a GenerationRequest to generation-requests, consume "
                + "generation-results)");
    }
}
