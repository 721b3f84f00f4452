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
 * What {@code dalle up} starts, as an object: a real Kafka broker and the five service processes of the
 * services' quarkus-app, with exactly {@code dalle up}'s command lines ({@link ServiceRoles}, {@link LocalStack},
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

    /** The roles, in start order (the gateway last). */
    public static final List<String> ROLES = List.copyOf(ServiceRoles.ROLES.keySet());

    private final LocalStack stack;
    private final RunState state;
    private final Map<String, ServiceSpec> specs;
    private final int basePort;
    private final Duration readyTimeout;

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
     * @param dataDir broker data, logs ({@code logs/<role>.log}), pid files, the gateway's state
     * @param bundle the model bundle the services load
     * @param servicesJar the services' {@code quarkus-run.jar}
     * @param kafkaPort the broker's port on 127.0.0.1
     * @param basePort the first service port: HTTP on base+0..4, gRPC on base+10..14 (gateway, tokenizer,
     *     sampler, decoder, reranker)
     * @param jvmOptions options of each service JVM (heap size; {@code -Dai.djl.*})
     * @throws IOException when a port is taken or something does not start or get ready (everything started is
     *     stopped again; the message names the service and its log's last lines)
     */
    public static ServicesStack start(Path dataDir, Path bundle, Path servicesJar, int kafkaPort, int basePort,
            List<String> jvmOptions, Duration readyTimeout) throws IOException {
        LocalStack stack = new LocalStack(dataDir);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path home = Path.of(System.getProperty("dalle.home", "."));
        List<List<ServiceSpec>> made = new java.util.ArrayList<>();
        RunState state = stack.up(kafkaPort, bootstrap -> {
            List<ServiceSpec> s = ServiceRoles.specs(java, jvmOptions, servicesJar, bundle, bootstrap, basePort,
                    stack.logDir(), home, stack.dataDir().resolve("gateway-state"));
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

    /** The role's HTTP port (health, metrics; the gateway's JSON API). */
    public int httpPort(String role) {
        return ServiceRoles.httpPort(basePort, role);
    }

    /** The role's gRPC port. */
    public int grpcPort(String role) {
        return ServiceRoles.grpcPort(basePort, role);
    }

    /** The role's log file. */
    public Path log(String role) {
        return spec(role).logFile();
    }

    /** Kills the role's process with SIGKILL and waits until it is gone. */
    public void kill(String role) throws IOException {
        ProcessHandle h = stack.supervisor().process(spec(role).name())
                .orElseThrow(() -> new IOException(role + " is not running"));
        h.destroyForcibly();
        try {
            h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException(role + " (pid " + h.pid() + ") did not exit after SIGKILL", e);
        }
    }

    /** Starts the role again with its command line and waits until it is ready. */
    public void restart(String role) throws IOException {
        Supervisor.Started s = stack.supervisor().start(spec(role));
        stack.supervisor().awaitReady(List.of(s), readyTimeout);
    }

    private ServiceSpec spec(String role) {
        ServiceSpec s = specs.get(role);
        if (s == null) {
            throw new IllegalArgumentException("role '" + role + "' is not one of " + ROLES);
        }
        return s;
    }

    /** Stops everything (as {@code dalle down}). */
    @Override
    public void close() throws IOException {
        stack.down(Duration.ofSeconds(10));
    }
}
