package dalle.cli;

import dalle.services.common.TopicSetup;
import dalle.tools.localkafka.LocalKafka;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code dalle up}/{@code down}/{@code status} without the command line: a real Kafka broker ({@link LocalKafka},
 * detached) plus a data-driven list of service processes ({@link Supervisor}), all of it outliving the command.
 *
 * <p>The data folder holds {@code kafka/} (the broker's files and {@code broker.log}), {@code logs/<service>.log},
 * {@code pids/<name>.pid} (the broker's name is {@value #KAFKA}) and {@link RunState run.json}.
 */
final class LocalStack {

    /** The broker's name among the pid files. */
    static final String KAFKA = "kafka";

    private final Path dataDir;
    private final Supervisor supervisor;

    LocalStack(Path dataDir) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.supervisor = new Supervisor(this.dataDir.resolve("pids"));
    }

    Path dataDir() {
        return dataDir;
    }

    Path logDir() {
        return dataDir.resolve("logs");
    }

    /**
     * What {@link #up} did.
     *
     * @param state what runs now (run.json)
     * @param started the processes this call started (the broker as {@value #KAFKA}), in start order
     * @param kept the processes that were running already and were left alone
     */
    record Up(RunState state, List<String> started, List<String> kept) {
    }

    /**
     * Starts the broker on {@code kafkaPort}, creates the registry's topics, starts the services that
     * {@code services} lists for the broker's bootstrap address, and waits until each is ready. If anything fails,
     * everything started is stopped again (logs stay) and the error names what failed.
     *
     * <p>When this folder's stack runs already, in part or whole (some service or the broker died), only what is
     * not running is started, with the ports run.json records; what runs is left alone (same pids). Then it waits
     * until every service is ready; on failure only what this call started is stopped again.
     *
     * @throws IOException when the running stack uses other ports than asked, a port is taken, the broker or a
     *     service does not start, or a service is not ready within {@code readyTimeout} (with its log's last lines)
     */
    Up up(int kafkaPort, Function<String, List<ServiceSpec>> services, Duration readyTimeout, Duration grace)
            throws IOException {
        List<String> running = running();
        if (!running.isEmpty()) {
            Optional<RunState> previous = RunState.read(dataDir);
            if (previous.isEmpty()) {
                throw new IOException("already running in " + dataDir + ": " + String.join(", ", running)
                        + ", but without its " + RunState.FILE + "; stop it first with `dalle down --data "
                        + dataDir + "`");
            }
            return resume(previous.get(), kafkaPort, services, readyTimeout, grace);
        }
        requireFree("Kafka (--kafka-port)", kafkaPort);
        Files.createDirectories(dataDir);
        Files.deleteIfExists(dataDir.resolve(RunState.FILE));
        try {
            LocalKafka kafka = LocalKafka.builder(dataDir.resolve("kafka")).port(kafkaPort).detached(true).start();
            supervisor.writePid(KAFKA, ProcessHandle.of(kafka.pid()).orElseThrow(
                    () -> new IOException("the broker (pid " + kafka.pid() + ") exited right after starting")));
            String bootstrap = kafka.bootstrapServers();
            // the local broker listens PLAINTEXT on 127.0.0.1 only: no Kafka security keys for it or the services
            try (Admin admin = Admin.create(TopicSetup.adminConfig(bootstrap, Duration.ofSeconds(30)))) {
                new TopicSetup(admin, (short) 1, Duration.ofSeconds(30)).apply(false);
            }
            List<ServiceSpec> specs = services.apply(bootstrap);
            for (ServiceSpec s : specs) {
                requireFree("service " + s.name(), s.readyUrl().getPort());
            }
            List<Supervisor.Started> started = new ArrayList<>();
            List<RunState.Service> described = new ArrayList<>();
            for (ServiceSpec s : specs) {
                Supervisor.Started st = supervisor.start(s);
                started.add(st);
                described.add(describe(s, st.process().pid()));
            }
            RunState state = new RunState(dataDir.toString(), System.currentTimeMillis(),
                    new RunState.Kafka(bootstrap, kafka.pid(), kafka.logFile().toString()), described);
            state.write(dataDir);
            supervisor.awaitReady(started, readyTimeout);
            List<String> names = new ArrayList<>(List.of(KAFKA));
            specs.forEach(s -> names.add(s.name()));
            return new Up(state, names, List.of());
        } catch (IOException | RuntimeException e) {
            down(grace);
            throw new IOException(e.getMessage() + "\n(everything started was stopped again; logs are in "
                    + dataDir + ")", e);
        }
    }

    /** {@link #up} on a folder whose stack runs in part: starts what died, leaves the rest alone. */
    private Up resume(RunState previous, int kafkaPort, Function<String, List<ServiceSpec>> services,
            Duration readyTimeout, Duration grace) throws IOException {
        String bootstrap = previous.kafka().bootstrap();
        int recordedPort = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        if (recordedPort != kafkaPort) {
            throw new IOException("the stack in " + dataDir + " has its broker on port " + recordedPort + ", not "
                    + kafkaPort + ": pass --kafka-port " + recordedPort + " to start what is missing, or stop it "
                    + "first with `dalle down --data " + dataDir + "`");
        }
        List<ServiceSpec> specs = services.apply(bootstrap);
        Map<String, RunState.Service> recorded = new java.util.LinkedHashMap<>();
        previous.services().forEach(s -> recorded.put(s.name(), s));
        for (ServiceSpec s : specs) {
            RunState.Service r = recorded.get(s.name());
            if (r != null && !r.readyUrl().equals(s.readyUrl().toString())) {
                throw new IOException("the stack in " + dataDir + " runs " + s.name() + " at " + r.readyUrl()
                        + ", not " + s.readyUrl() + ": pass the --base-port it was started with, or stop it first "
                        + "with `dalle down --data " + dataDir + "`");
            }
        }
        List<String> started = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        List<Supervisor.Started> startedServices = new ArrayList<>();
        try {
            RunState.Kafka kafka = previous.kafka();
            if (supervisor.process(KAFKA).isPresent()) {
                kept.add(KAFKA);
            } else {
                LocalKafka restarted = restartBroker(recordedPort);
                kafka = new RunState.Kafka(bootstrap, restarted.pid(), restarted.logFile().toString());
                started.add(KAFKA);
            }
            List<RunState.Service> described = new ArrayList<>();
            for (ServiceSpec s : specs) {
                Optional<ProcessHandle> live = supervisor.process(s.name());
                if (live.isPresent()) {
                    kept.add(s.name());
                    described.add(describe(s, live.get().pid()));
                    continue;
                }
                requireFree("service " + s.name(), s.readyUrl().getPort());
                Supervisor.Started st = supervisor.start(s);
                startedServices.add(st);
                started.add(s.name());
                described.add(describe(s, st.process().pid()));
            }
            RunState state = new RunState(dataDir.toString(), previous.startedAtMs(), kafka, described);
            state.write(dataDir);
            supervisor.awaitReady(startedServices, readyTimeout);
            return new Up(state, started, kept);
        } catch (IOException | RuntimeException e) {
            supervisor.stop(started, grace);
            throw new IOException(e.getMessage() + "\n(what this `dalle up` started was stopped again: "
                    + String.join(", ", started) + "; what ran before runs on; logs are in " + dataDir + ")", e);
        }
    }

    private static RunState.Service describe(ServiceSpec s, long pid) {
        return new RunState.Service(s.name(), pid, s.readyUrl().toString(), s.endpoints(),
                s.logFile().toAbsolutePath().toString());
    }

    /**
     * Starts the broker again on this folder's {@code kafka/} (topics and records kept) on {@code kafkaPort} and
     * records its pid; the registry's topics are created if missing.
     *
     * @throws IOException when a broker runs here already, the port is taken, or it does not get ready
     */
    LocalKafka restartBroker(int kafkaPort) throws IOException {
        if (supervisor.process(KAFKA).isPresent()) {
            throw new IOException("the broker of " + dataDir + " is running already");
        }
        requireFree("Kafka (--kafka-port)", kafkaPort);
        LocalKafka kafka = LocalKafka.builder(dataDir.resolve("kafka")).port(kafkaPort).detached(true).start();
        supervisor.writePid(KAFKA, ProcessHandle.of(kafka.pid()).orElseThrow(
                () -> new IOException("the broker (pid " + kafka.pid() + ") exited right after starting")));
        try (Admin admin = Admin.create(TopicSetup.adminConfig(kafka.bootstrapServers(), Duration.ofSeconds(30)))) {
            new TopicSetup(admin, (short) 1, Duration.ofSeconds(30)).apply(false);
        }
        return kafka;
    }

    /**
     * Stops every process with a pid file: the services together (SIGTERM, SIGKILL after {@code grace}), then the
     * broker the same way; removes the pid files and run.json.
     *
     * @return what happened to each, services first, the broker last
     */
    Map<String, Supervisor.StopOutcome> down(Duration grace) throws IOException {
        List<String> services = new ArrayList<>(supervisor.names());
        boolean kafka = services.remove(KAFKA);
        Map<String, Supervisor.StopOutcome> outcomes = new java.util.LinkedHashMap<>(supervisor.stop(services, grace));
        if (kafka) {
            outcomes.putAll(supervisor.stop(List.of(KAFKA), grace));
        }
        Files.deleteIfExists(dataDir.resolve(RunState.FILE));
        return outcomes;
    }

    /**
     * One line of {@link #status()}.
     *
     * @param pid the pid its pid file records (also when that process died)
     * @param alive whether that process runs
     * @param log its log file, when known
     */
    record Entry(String name, Optional<Long> pid, boolean alive, String state, String endpoint, String log) {
    }

    /**
     * What runs: one entry per pid file (services, then the broker): "ready", "running, not ready (HTTP 503)" or
     * "died" for a service; "serving", "running, port closed" or "died" for the broker.
     */
    List<Entry> status() throws IOException {
        Optional<RunState> run = RunState.read(dataDir);
        List<Entry> entries = new ArrayList<>();
        List<String> names = new ArrayList<>(supervisor.names());
        // Start order where run.json knows it, the broker last.
        List<String> order = run.map(r -> r.services().stream().map(RunState.Service::name).toList())
                .orElse(List.of());
        names.sort(java.util.Comparator.comparing((String n) -> n.equals(KAFKA))
                .thenComparing(n -> order.contains(n) ? order.indexOf(n) : order.size()));
        for (String name : names) {
            Optional<ProcessHandle> h = supervisor.process(name);
            Optional<Long> recorded = supervisor.recordedPid(name);
            Optional<Long> pid = h.map(ProcessHandle::pid).or(() -> recorded);
            if (name.equals(KAFKA)) {
                String bootstrap = run.map(r -> r.kafka().bootstrap()).orElse("?");
                String state = h.isEmpty() ? "died"
                        : accepts(bootstrap) ? "serving" : "running, port closed";
                entries.add(new Entry(name, pid, h.isPresent(), state, bootstrap,
                        run.map(r -> r.kafka().log()).orElse("")));
                continue;
            }
            Optional<RunState.Service> s = run.flatMap(r -> r.services().stream()
                    .filter(x -> x.name().equals(name)).findFirst());
            String endpoint = s.map(LocalStack::endpoints).orElse("");
            String state;
            if (h.isEmpty()) {
                state = "died";
            } else if (s.isEmpty()) {
                state = "running";
            } else {
                Optional<String> notReady = Supervisor.probe(java.net.URI.create(s.get().readyUrl()));
                state = notReady.map(why -> "running, not ready (" + why + ")").orElse("ready");
            }
            entries.add(new Entry(name, pid, h.isPresent(), state, endpoint, s.map(RunState.Service::log)
                    .orElse("")));
        }
        return entries;
    }

    /** "http://localhost:8080  grpc localhost:8090": the http endpoint bare, others labelled, sorted by kind. */
    static String endpoints(RunState.Service s) {
        return String.join("  ", new java.util.TreeMap<>(s.endpoints()).entrySet().stream()
                .map(e -> e.getKey().equals("http") ? e.getValue() : e.getKey() + " " + e.getValue()).toList());
    }

    /** Names whose pid file points at a live process. */
    List<String> running() throws IOException {
        List<String> live = new ArrayList<>();
        for (String name : supervisor.names()) {
            if (supervisor.process(name).isPresent()) {
                live.add(name);
            }
        }
        return live;
    }

    Supervisor supervisor() {
        return supervisor;
    }

    private static void requireFree(String what, int port) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IOException("port " + port + " for " + what + " is in use; stop what holds it or choose "
                    + "another port", e);
        }
    }

    private static boolean accepts(String bootstrap) {
        int colon = bootstrap.lastIndexOf(':');
        if (colon < 0) {
            return false;
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(bootstrap.substring(0, colon),
                    Integer.parseInt(bootstrap.substring(colon + 1))), 1000);
            return true;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
