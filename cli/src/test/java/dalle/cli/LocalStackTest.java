package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dalle up/status/down} mechanics with a real broker and real child processes (a tiny HTTP health
 * server standing in for the services).
 */
class LocalStackTest {

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static ServiceSpec health(String name, int port, long readyAfterMs, int exitCode, Path logs) {
        return new ServiceSpec(name, HealthServer.command(port, readyAfterMs, exitCode),
                URI.create("http://127.0.0.1:" + port + "/q/health/ready"), logs.resolve(name + ".log"),
                Map.of("http", "http://127.0.0.1:" + port));
    }

    /** The session id of a process (field 6 of /proc/PID/stat): detached processes lead their own. */
    private static long session(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[3]);
    }

    @Test
    void upStartsDetachedBrokerAndServicesStatusListsThemDownStopsAll(@TempDir Path dir) throws Exception {
        LocalStack stack = new LocalStack(dir);
        int kafkaPort = freePort();
        int a = freePort();
        int b = freePort();
        RunState state = stack.up(kafkaPort, bootstrap -> List.of(health("alpha", a, 0, -1, stack.logDir()),
                health("beta", b, 1500, -1, stack.logDir())), Duration.ofSeconds(60), Duration.ofSeconds(10))
                .state();

        assertEquals("127.0.0.1:" + kafkaPort, state.kafka().bootstrap());
        assertEquals(List.of("alpha", "beta"), state.services().stream().map(RunState.Service::name).toList());
        assertEquals(state, RunState.read(dir).orElseThrow(), "run.json says what runs");
        assertEquals(List.of("alpha", "beta", "kafka"), stack.supervisor().names());
        long own = session(ProcessHandle.current().pid());
        for (long pid : List.of(state.kafka().pid(), state.services().get(0).pid(), state.services().get(1).pid())) {
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            assertEquals(pid, session(pid), "pid " + pid + " leads its own session (detached)");
            assertNotEquals(own, session(pid));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                state.kafka().bootstrap()))) {
            assertTrue(admin.listTopics().names().get().containsAll(List.of("generation-requests",
                    "candidate-scores-dlq")), "the registry's topics exist");
        }

        CliRun status = CliRun.dalle("status", "--data", dir.toString());
        assertEquals(0, status.exit(), status.out() + status.err());
        assertTrue(status.out().matches("(?s).*alpha\\s+\\d+\\s+ready\\s+http://127.0.0.1:" + a + ".*"), status.out());
        assertTrue(status.out().matches("(?s).*kafka\\s+\\d+\\s+serving\\s+127.0.0.1:" + kafkaPort + ".*"),
                status.out());

        // up again while everything runs: nothing is started, nothing restarted
        LocalStack.Up again = stack.up(kafkaPort, bootstrap -> List.of(health("alpha", a, 0, -1, stack.logDir()),
                health("beta", b, 1500, -1, stack.logDir())), Duration.ofSeconds(60), Duration.ofSeconds(10));
        assertEquals(List.of(), again.started());
        assertEquals(List.of("kafka", "alpha", "beta"), again.kept());
        assertEquals(state.services(), again.state().services(), "the same pids");
        IOException otherPort = assertThrows(IOException.class, () -> stack.up(kafkaPort + 1, bs -> List.of(),
                Duration.ofSeconds(5), Duration.ofSeconds(5)));
        assertTrue(otherPort.getMessage().startsWith("the stack in " + dir.toAbsolutePath().normalize()
                + " has its broker on port " + kafkaPort + ", not " + (kafkaPort + 1)), otherPort.getMessage());

        CliRun down = CliRun.dalle("down", "--data", dir.toString());
        assertEquals(0, down.exit(), down.err());
        assertEquals(List.of("alpha      stopped", "beta       stopped", "kafka      stopped"),
                down.out().lines().toList());
        for (long pid : List.of(state.kafka().pid(), state.services().get(0).pid())) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid);
        }
        assertEquals(List.of(), stack.supervisor().names(), "pid files removed");
        assertFalse(Files.exists(dir.resolve("run.json")));
        CliRun none = CliRun.dalle("status", "--data", dir.toString());
        assertEquals(1, none.exit());
        assertTrue(none.out().startsWith("nothing runs in "), none.out());
    }

    /** SIGKILL, and wait until it is gone. */
    private static void kill(long pid) throws Exception {
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        h.destroyForcibly();
        h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void afterAServiceAndTheBrokerAreKilledStatusNamesThemAsDiedAndUpStartsOnlyThem(@TempDir Path dir)
            throws Exception {
        LocalStack stack = new LocalStack(dir);
        int kafkaPort = freePort();
        int a = freePort();
        int b = freePort();
        java.util.function.Function<String, List<ServiceSpec>> specs = bootstrap -> List.of(
                health("alpha", a, 0, -1, stack.logDir()), health("beta", b, 0, -1, stack.logDir()));
        RunState first = stack.up(kafkaPort, specs, Duration.ofSeconds(60), Duration.ofSeconds(10)).state();
        long alpha = first.services().get(0).pid();
        long beta = first.services().get(1).pid();
        try {
            // Given beta is killed with SIGKILL
            kill(beta);

            // Then status names it as died, with its pid and log, and says how to start it again
            CliRun status = CliRun.dalle("status", "--data", dir.toString());
            assertEquals(1, status.exit(), status.out() + status.err());
            assertTrue(status.out().matches("(?s).*beta\\s+" + beta + "\\s+died\\s+http://127.0.0.1:" + b + "\\s+"
                    + java.util.regex.Pattern.quote(stack.logDir().resolve("beta.log").toString()) + "\n.*"),
                    status.out());
            assertTrue(status.out().matches("(?s).*alpha\\s+" + alpha + "\\s+ready\\s.*"), status.out());
            assertTrue(status.out().contains("beta died (see its log); start what is not running with `dalle up"
                    + " --data " + stack.dataDir() + "`"), status.out());

            // When up runs again, it starts beta only: alpha and the broker keep their pids
            LocalStack.Up again = stack.up(kafkaPort, specs, Duration.ofSeconds(60), Duration.ofSeconds(10));
            assertEquals(List.of("beta"), again.started());
            assertEquals(List.of("kafka", "alpha"), again.kept());
            assertEquals(alpha, again.state().services().get(0).pid());
            long beta2 = again.state().services().get(1).pid();
            assertNotEquals(beta, beta2);
            assertEquals(first.kafka(), again.state().kafka());
            assertEquals(again.state(), RunState.read(dir).orElseThrow(), "run.json has the new pid");
            assertEquals(Optional.empty(), Supervisor.probe(URI.create("http://127.0.0.1:" + b + "/q/health/ready")),
                    "beta answers again");
            assertEquals(0, CliRun.dalle("status", "--data", dir.toString()).exit(), "everything is ready");

            // And when the broker dies, up starts it again on its port, with its topics
            kill(first.kafka().pid());
            CliRun brokerDied = CliRun.dalle("status", "--data", dir.toString());
            assertTrue(brokerDied.out().matches("(?s).*kafka\\s+" + first.kafka().pid() + "\\s+died\\s.*"),
                    brokerDied.out());
            LocalStack.Up third = stack.up(kafkaPort, specs, Duration.ofSeconds(60), Duration.ofSeconds(10));
            assertEquals(List.of("kafka"), third.started());
            assertEquals(List.of("alpha", "beta"), third.kept());
            assertEquals(List.of(alpha, beta2), third.state().services().stream().map(RunState.Service::pid)
                    .toList());
            assertNotEquals(first.kafka().pid(), third.state().kafka().pid());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    third.state().kafka().bootstrap()))) {
                assertTrue(admin.listTopics().names().get().contains("generation-requests"), "the broker answers");
            }
            CliRun all = CliRun.dalle("status", "--data", dir.toString());
            assertEquals(0, all.exit(), all.out());
        } finally {
            stack.down(Duration.ofSeconds(10));
        }
    }

    @Test
    void aServiceThatIsNeverReadyFailsUpNamingItWithItsLogAndEverythingIsStopped(@TempDir Path dir)
            throws Exception {
        LocalStack stack = new LocalStack(dir);
        int ok = freePort();
        int slow = freePort();
        int kafkaPort = freePort();
        IOException e = assertThrows(IOException.class, () -> stack.up(kafkaPort, bootstrap -> List.of(
                health("quick", ok, 0, -1, stack.logDir()), health("sloth", slow, 600_000, -1, stack.logDir())),
                Duration.ofSeconds(4), Duration.ofSeconds(5)));
        String m = e.getMessage();
        assertTrue(m.startsWith("service sloth was not ready within 4 s (http://127.0.0.1:" + slow
                + "/q/health/ready: HTTP 503); its log is " + stack.logDir().resolve("sloth.log")), m);
        assertTrue(m.contains("health server: listening on " + slow), m);
        assertTrue(m.endsWith("(everything started was stopped again; logs are in " + stack.dataDir() + ")"), m);
        assertEquals(List.of(), stack.running());
        assertEquals(Optional.empty(), RunState.read(dir));
        assertTrue(Files.readString(stack.logDir().resolve("quick.log")).contains("listening on " + ok));
    }

    @Test
    void aServiceThatExitsWhileStartingIsReportedWithItsExitCodeAndLogTail(@TempDir Path dir) throws Exception {
        Supervisor supervisor = new Supervisor(dir.resolve("pids"));
        int port = freePort();
        Supervisor.Started broken = supervisor.start(health("broken", port, 0, 3, dir));
        IOException e = assertThrows(IOException.class,
                () -> supervisor.awaitReady(List.of(broken), Duration.ofSeconds(30)));
        assertTrue(e.getMessage().startsWith("service broken exited with code 3 while starting; its log is "
                + dir.resolve("broken.log") + "; its last lines:\n"
                + "  health server: loading the model for port " + port + "\n"
                + "  health server: cannot load the model, giving up"), e.getMessage());
        assertEquals(Map.of("broken", Supervisor.StopOutcome.NOT_RUNNING), supervisor.stop(List.of("broken"),
                Duration.ofSeconds(1)));
    }

    @Test
    void downKillsWhatIgnoresSigtermAndSkipsStalePidFiles(@TempDir Path dir) throws Exception {
        Supervisor supervisor = new Supervisor(dir.resolve("pids"));
        // A shell that ignores SIGTERM, detached like a service.
        Supervisor.Started stubborn = supervisor.start(new ServiceSpec("stubborn",
                List.of("/bin/sh", "-c", "trap '' TERM; echo started; while true; do sleep 0.1; done"),
                URI.create("http://127.0.0.1:1/"), dir.resolve("stubborn.log"), Map.of()));
        Files.writeString(supervisor.pidFile("ghost"), "999999999\n0\n");
        Thread.sleep(300);
        Map<String, Supervisor.StopOutcome> out = supervisor.stop(List.of("stubborn", "ghost"), Duration.ofMillis(700));
        assertEquals(Map.of("stubborn", Supervisor.StopOutcome.KILLED, "ghost", Supervisor.StopOutcome.NOT_RUNNING),
                out);
        assertFalse(stubborn.process().isAlive());
        assertEquals(List.of(), supervisor.names());
    }

    @Test
    void upWithoutTheServicesBuiltSaysHowToBuildThem(@TempDir Path dir) {
        CliRun r = CliRun.dalle("up", "--model", dir.toString(), "--data", dir.resolve("run").toString(),
                "--services", dir.resolve("services").toString());
        assertEquals(2, r.exit());
        assertEquals("dalle: no tokenizer service at " + dir.resolve("services/tokenizer/target/quarkus-app/"
                + "quarkus-run.jar") + ": build the services with `mvn -B -q -DskipTests -pl services/tokenizer,"
                + "services/sampler,services/decoder,services/reranker,services/gateway -am package`, or pass "
                + "--services DIR", r.err().strip());
    }

    @Test
    void theServiceTableGivesEachServiceItsOwnJarPortsAndKeysAndTheGatewayItsUpstreams() {
        List<ServiceSpec> specs = Services.specs(Path.of("/j/bin/java"), List.of("-Xmx1g"), Map.of("sampler", List.of("-Dx=1")), Path.of("/s"),
                Path.of("/m/tiny"), "127.0.0.1:9092", 8080, Path.of("/logs"), Path.of("/state"));
        assertEquals(List.of("tokenizer", "sampler", "decoder", "reranker", "gateway"),
                specs.stream().map(ServiceSpec::name).toList());
        ServiceSpec sampler = specs.get(1);
        assertEquals(List.of("/j/bin/java", "-Xmx1g", "-Dx=1", "-Dquarkus.http.port=8082",
                "-Dquarkus.grpc.server.port=8092", "-Dquarkus.management.port=8087",
                "-Dkafka.bootstrap.servers=127.0.0.1:9092",
                "-Ddalle.model=/m/tiny", "-Ddalle.kafka.instance-id=dalle-up-sampler-8092", "-jar",
                "/s/sampler/target/quarkus-app/quarkus-run.jar"), sampler.command());
        // ready when its management interface says so; the API on 8082, health and metrics on 8087
        assertEquals(URI.create("http://localhost:8087/q/health/ready"), sampler.readyUrl());
        assertEquals(Map.of("http", "http://localhost:8082", "grpc", "localhost:8092", "management",
                "http://localhost:8087"), sampler.endpoints());
        assertTrue(specs.get(2).command().contains("-Ddalle.reranker.address=127.0.0.1:8094"),
                "the decoder scores through the stack's reranker (DecodeAndScore): " + specs.get(2).command());
        ServiceSpec gateway = specs.get(4);
        assertTrue(gateway.command().containsAll(List.of("-Dquarkus.http.port=8080", "-Dquarkus.grpc.server.port=8090",
                "-Dquarkus.management.port=8085", "-Ddalle.gateway.tokenizer-address=127.0.0.1:8091",
                "-Ddalle.gateway.reranker-address=127.0.0.1:8094",
                "-Ddalle.gateway.state-dir=/state", "-Ddalle.gateway.instance-id=dalle-up-gateway-8090",
                "/s/gateway/target/quarkus-app/quarkus-run.jar")), gateway.command().toString());
        assertTrue(gateway.command().stream().noneMatch(a -> a.startsWith("-Ddalle.model=")),
                "the gateway holds no model: " + gateway.command());
        assertEquals(Path.of("/logs/gateway.log"), gateway.logFile());
        assertThrows(IllegalArgumentException.class, () -> Services.specs(Path.of("java"), List.of(), Map.of(),
                Path.of("s"), Path.of("m"), "127.0.0.1:9092", 65530, Path.of("l"), Path.of("st")));
    }

    @Test
    void everyDalleKeyDalleUpSetsIsAKeyOfThatServicesConfiguration() throws Exception {
        // each service's application.properties lists its keys with defaults; the optional keys (no default)
        // are in its README's configuration table
        List<ServiceSpec> specs = Services.specs(Path.of("java"), List.of(), Map.of(), Path.of("s"), Path.of("m"),
                "127.0.0.1:9092", 8080, Path.of("l"), Path.of("st"));
        for (ServiceSpec spec : specs) {
            Path dir = Path.of("..", "services", spec.name());
            java.util.Properties app = new java.util.Properties();
            try (var in = java.nio.file.Files.newInputStream(dir.resolve("src/main/resources/application.properties"))) {
                app.load(in);
            }
            String readme = java.nio.file.Files.readString(dir.resolve("README.md"));
            for (String arg : spec.command()) {
                if (!arg.startsWith("-D")) {
                    continue;
                }
                String key = arg.substring(2, arg.indexOf('='));
                assertTrue(app.containsKey(key) || readme.contains("`" + key + "`"), key + " (set by dalle up) is"
                        + " neither in services/" + spec.name() + "'s application.properties nor in its README");
            }
        }
    }
}
