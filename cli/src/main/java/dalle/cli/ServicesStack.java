package dalle.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What {@code dalle up} starts, as an object: a real Kafka broker and the five service processes, each its own
 * quarkus-app, with exactly {@code dalle up}'s command lines ({@link Services}, {@link LocalStack},
 * {@link Supervisor}). Used by {@code dalle bench services} and by the end-to-end tests (module {@code tests/}),
 * which also kill and restart single services.
 *
 * <pre>{@code
 * try (ServicesStack stack = ServicesStack.start(dataDir, bundle, jar, ServicesStack.freePort(), 21000,
 *         List.of("-Xmx512m"), Duration.ofMinutes(3))) {
 *     stack.bootstrap();           // "127.0.0.1:<port>"
 *     stack.grpcPort("gateway");   // Gateway gRPC
 *     stack.kill("sampler");       // SIGKILL
 *     stack.restart("sampler");    // the same command line again; waits until ready
 * }                                // dalle down: SIGTERM, SIGKILL after the grace
 * }</pre>
 */
public final class ServicesStack implements AutoCloseable {

    /** The services, in start order (the gateway last). */
    public static final List<String> SERVICES = List.copyOf(Services.SERVICES.keySet());

    private final LocalStack stack;
    private final RunState state;
    private final Map<String, ServiceSpec> specs;
    private final int basePort;
    private final Duration readyTimeout;
    private final Map<String, Supervisor.Started> starting = new java.util.concurrent.ConcurrentHashMap<>();

    private ServicesStack(LocalStack stack, RunState state, List<ServiceSpec> specs, int basePort,
            Duration readyTimeout) {
        this.stack = stack;
        this.state = state;
        this.specs = specs.stream().collect(java.util.stream.Collectors.toMap(ServiceSpec::name, s -> s));
        this.basePort = basePort;
        this.readyTimeout = readyTimeout;
    }

    /**
     * Starts the broker and the services and waits until every one is ready (as {@code dalle up}).
     *
     * @param dataDir broker data, logs ({@code logs/<service>.log}), pid files, the gateway's state
     * @param bundle the model bundle the services load
     * @param servicesDir the checkout's {@code services/}: each service's build under {@code <name>/target/}
     * @param kafkaPort the broker's port on 127.0.0.1
     * @param basePort the first service port: HTTP on base+0..4, management (health, metrics) on base+5..9, gRPC on
     *     base+10..14 (gateway, tokenizer, sampler, decoder, reranker)
     * @param jvmOptions options of each service JVM (heap size; {@code -Dai.djl.*})
     * @throws IOException when a port is taken or something does not start or get ready (everything started is
     *     stopped again; the message names the service and its log's last lines)
     */
    public static ServicesStack start(Path dataDir, Path bundle, Path servicesDir, int kafkaPort, int basePort,
            List<String> jvmOptions, Duration readyTimeout) throws IOException {
        return start(dataDir, bundle, servicesDir, kafkaPort, basePort, jvmOptions, Map.of(), readyTimeout);
    }

    /**
     * As above, with more JVM options for some services, by name (e.g. one service's own {@code -Dkey=value}).
     *
     * @throws IOException as above
     */
    public static ServicesStack start(Path dataDir, Path bundle, Path servicesDir, int kafkaPort, int basePort,
            List<String> jvmOptions, Map<String, List<String>> serviceOptions, Duration readyTimeout)
            throws IOException {
        LocalStack stack = new LocalStack(dataDir);
        LocalKeys.ensure(stack.dataDir());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<List<ServiceSpec>> made = new java.util.ArrayList<>();
        RunState state = stack.up(kafkaPort, bootstrap -> {
            List<ServiceSpec> s = Services.specs(java, jvmOptions, serviceOptions, servicesDir, bundle, bootstrap, basePort,
                    stack.logDir(), stack.dataDir().resolve("gateway-state"));
            made.add(s);
            return s;
        }, readyTimeout, Duration.ofSeconds(10)).state();
        return new ServicesStack(stack, state, made.get(0), basePort, readyTimeout);
    }

    /**
     * Stops whatever a stack (or {@code dalle up}) left running in {@code dataDir}, by its pid files, as
     * {@code dalle down} does; nothing when nothing runs there.
     */
    public static void stopLeftovers(Path dataDir) throws IOException {
        new LocalStack(dataDir).down(Duration.ofSeconds(10));
    }

    /** A port free on the loopback interface now (for a broker or a base port's first port). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /** The gateway's API key (tenant {@value LocalKeys#TENANT}), as {@code dalle up} keeps it. */
    public String apiKey() throws IOException {
        return LocalKeys.read(stack.dataDir());
    }

    /** The gateway's keys file (hashes; a line added there is a new key within seconds). */
    public Path keysFile() {
        return LocalKeys.keysFile(stack.dataDir());
    }

    /**
     * Starts a second gateway process beside the stack's, as a Deployment's second replica: the same command line
     * with its own ports, Streams state folder, instance id and advertised address, so that it shares the fan-in
     * and the status view with the first. Returns at once; the caller waits for its readiness and destroys it.
     */
    public Process startGatewayReplica(int httpPort, int grpcPort, int managementPort) throws IOException {
        String name = "gateway-" + grpcPort;
        java.util.List<String> cmd = new java.util.ArrayList<>();
        for (String a : spec("gateway").command()) {
            if (a.startsWith("-D" + Services.HTTP_PORT_PROPERTY + "=")) {
                a = "-D" + Services.HTTP_PORT_PROPERTY + "=" + httpPort;
            } else if (a.startsWith("-D" + Services.GRPC_PORT_PROPERTY + "=")) {
                a = "-D" + Services.GRPC_PORT_PROPERTY + "=" + grpcPort;
            } else if (a.startsWith("-D" + Services.MANAGEMENT_PORT_PROPERTY + "=")) {
                a = "-D" + Services.MANAGEMENT_PORT_PROPERTY + "=" + managementPort;
            } else if (a.startsWith("-D" + Services.GATEWAY_STATE_PROPERTY + "=")) {
                a = "-D" + Services.GATEWAY_STATE_PROPERTY + "=" + stack.dataDir().resolve(name + "-state");
            } else if (a.startsWith("-D" + Services.GATEWAY_INSTANCE_PROPERTY + "=")) {
                a = "-D" + Services.GATEWAY_INSTANCE_PROPERTY + "=dalle-up-" + name;
            } else if (a.startsWith("-D" + Services.GATEWAY_ADVERTISED_PROPERTY + "=")) {
                a = "-D" + Services.GATEWAY_ADVERTISED_PROPERTY + "=127.0.0.1:" + grpcPort;
            }
            cmd.add(a);
        }
        Path log = stack.logDir().resolve(name + ".log");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** What runs (run.json as {@code dalle up} wrote it; the pids of the first start). */
    RunState state() {
        return state;
    }

    /** The broker's bootstrap address. */
    public String bootstrap() {
        return state.kafka().bootstrap();
    }

    /** The service's HTTP port (the gateway's JSON API and web page). */
    public int httpPort(String service) {
        return Services.httpPort(basePort, service);
    }

    /** The service's management port: health ({@code /q/health}) and metrics ({@code /q/metrics}). */
    public int managementPort(String service) {
        return Services.managementPort(basePort, service);
    }

    /** The service's gRPC port. */
    public int grpcPort(String service) {
        return Services.grpcPort(basePort, service);
    }

    /** The service's log file. */
    public Path log(String service) {
        return spec(service).logFile();
    }

    /** Kills the service's process with SIGKILL and waits until it is gone. */
    public void kill(String service) throws IOException {
        ProcessHandle h = stack.supervisor().process(spec(service).name())
                .orElseThrow(() -> new IOException(service + " is not running"));
        h.destroyForcibly();
        try {
            h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException(service + " (pid " + h.pid() + ") did not exit after SIGKILL", e);
        }
    }

    /** The service's process, while it runs. */
    public java.util.Optional<ProcessHandle> process(String service) throws IOException {
        return stack.supervisor().process(spec(service).name());
    }

    /** Starts the service again with its command line and returns at once (see {@link #awaitReady}). */
    public void startAgain(String service) throws IOException {
        starting.put(service, stack.supervisor().start(spec(service)));
    }

    /** Waits until a service started by {@link #startAgain} is ready. */
    public void awaitReady(String service) throws IOException {
        Supervisor.Started s = starting.remove(service);
        if (s == null) {
            throw new IllegalStateException(service + " was not started again with startAgain");
        }
        stack.supervisor().awaitReady(List.of(s), readyTimeout);
    }

    /** The broker's process, while it runs. */
    public java.util.Optional<ProcessHandle> brokerProcess() throws IOException {
        return stack.supervisor().process(LocalStack.KAFKA);
    }

    /** Kills the broker with SIGKILL (no controlled shutdown) and waits until it is gone. */
    public void killBroker() throws IOException {
        ProcessHandle h = brokerProcess().orElseThrow(() -> new IOException("the broker is not running"));
        h.destroyForcibly();
        try {
            h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("the broker (pid " + h.pid() + ") did not exit after SIGKILL", e);
        }
    }

    /**
     * Starts the broker again on its data folder and port (its topics and records kept) and waits until clients
     * can talk to it; the services reconnect by themselves.
     */
    public void restartBroker() throws IOException {
        stack.restartBroker(bootstrapPort());
    }

    private int bootstrapPort() {
        String b = bootstrap();
        return Integer.parseInt(b.substring(b.lastIndexOf(':') + 1));
    }

    /** Starts the service again with its command line and waits until it is ready. */
    public void restart(String service) throws IOException {
        Supervisor.Started s = stack.supervisor().start(spec(service));
        stack.supervisor().awaitReady(List.of(s), readyTimeout);
    }

    private ServiceSpec spec(String service) {
        ServiceSpec s = specs.get(service);
        if (s == null) {
            throw new IllegalArgumentException("service '" + service + "' is not one of " + SERVICES);
        }
        return s;
    }

    /** Stops everything (as {@code dalle down}). */
    @Override
    public void close() throws IOException {
        stack.down(Duration.ofSeconds(10));
    }
}
