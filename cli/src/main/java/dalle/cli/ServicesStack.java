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
     * @param basePort the first service port: HTTP on base+0..4, gRPC on base+10..14 (gateway, tokenizer,
     *     sampler, decoder, reranker)
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
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<List<ServiceSpec>> made = new java.util.ArrayList<>();
        RunState state = stack.up(kafkaPort, bootstrap -> {
            List<ServiceSpec> s = Services.specs(java, jvmOptions, serviceOptions, servicesDir, bundle, bootstrap, basePort,
                    stack.logDir(), stack.dataDir().resolve("gateway-state"));
            made.add(s);
            return s;
        }, readyTimeout, Duration.ofSeconds(10));
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

    /** The broker's bootstrap address. */
    public String bootstrap() {
        return state.kafka().bootstrap();
    }

    /** The service's HTTP port (health, metrics; the gateway's JSON API). */
    public int httpPort(String service) {
        return Services.httpPort(basePort, service);
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
