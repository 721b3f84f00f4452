package dalle.tools.localkafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/** Runs the broker's JVMs (storage format, then the server) with their output appended to broker.log. */
final class BrokerProcess {

    /** What {@code KafkaRaftServer} logs once the broker serves clients. */
    static final String READY_LINE = "Kafka Server started";

    private final Path dataDir;
    private final Path lib;
    private final List<String> jvmOptions;
    private final Duration startTimeout;
    private final boolean detached;

    BrokerProcess(Path dataDir, Path lib, List<String> jvmOptions, Duration startTimeout, boolean detached) {
        this.detached = detached;
        this.dataDir = dataDir;
        this.lib = lib;
        this.jvmOptions = jvmOptions;
        this.startTimeout = startTimeout;
    }

    Path logFile() {
        return dataDir.resolve("broker.log");
    }

    /** Fails with the fix when the folder holds no kafka_2.13 jar. */
    void checkKafkaLib() throws IOException {
        boolean ok = false;
        if (Files.isDirectory(lib)) {
            try (var files = Files.list(lib)) {
                ok = files.anyMatch(f -> f.getFileName().toString().startsWith("kafka_2.13-"));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        if (!ok) {
            throw new IOException("no Kafka broker classpath at " + lib.toAbsolutePath()
                    + " (expected kafka_2.13-*.jar there): build it with"
                    + " `mvn -B -q -DskipTests -pl tools/local-kafka -am package`, or set -D"
                    + LocalKafka.KAFKA_LIB_PROPERTY + "=<folder>");
        }
    }

    /** {@code kafka.tools.StorageTool format} with a fresh cluster id (a Kafka Uuid, as {@code random-uuid} prints). */
    void format(Path serverProperties, Path log4j, List<String> more) throws IOException {
        String id = Uuid.randomUuid().toString();
        List<String> args = new ArrayList<>(List.of("format", "-t", id, "-c", serverProperties.toString()));
        args.addAll(more);
        Process p = launch(log4j, "kafka.tools.StorageTool", args);
        try {
            if (!p.waitFor(startTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw failure("formatting the storage took longer than " + startTimeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while formatting " + dataDir, e);
        }
        if (p.exitValue() != 0) {
            throw failure("formatting the storage failed (exit code " + p.exitValue() + ")");
        }
    }

    /** {@code java <options> -cp <lib>/* <mainClass> <args>} in the data folder, output appended to the log. */
    Process launch(Path log4j, String mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        if (detached && mainClass.equals("kafka.Kafka")) {
            command.addAll(newSession());
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dlog4j2.configurationFile=" + log4j.toUri());
        command.add("-cp");
        command.add(lib.toAbsolutePath() + "/*");
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(dataDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        if (detached) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))); // no pipe to this JVM
        }
        // Settings meant for Kafka's shell scripts, or for every JVM, must not leak into this one.
        pb.environment().keySet().removeIf(k -> k.startsWith("KAFKA_") || k.equals("JAVA_TOOL_OPTIONS"));
        return pb.start();
    }

    /**
     * {@code setsid} (util-linux) when it is on this machine, so a detached broker leads a session of its own;
     * nothing otherwise. A child of a JVM is no process-group leader, so setsid execs in place: same pid.
     */
    static List<String> newSession() {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin")) {
            if (Files.isExecutable(Path.of(dir, "setsid"))) {
                return List.of(Path.of(dir, "setsid").toString());
            }
        }
        return List.of();
    }

    /**
     * Waits until the log (from {@code logOffset} on) says the server started, the port accepts connections and a
     * describeCluster answers (asked with the {@code client} properties: bootstrap and, if secure, the admin's).
     *
     * @throws IOException when the process exits first or the start timeout passes; names the log, quotes its tail
     */
    void awaitReady(Process process, Map<String, Object> client, int port, long logOffset) throws IOException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        boolean logSaysStarted = false;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw failure("the broker exited with code " + process.exitValue() + " while starting");
            }
            logSaysStarted = logSaysStarted || BrokerFiles.logContains(logFile(), logOffset, READY_LINE);
            if (logSaysStarted && accepts(port) && clusterAnswers(client)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the broker", e);
            }
        }
        throw failure("the broker was not ready within " + startTimeout.toSeconds() + " s");
    }

    private IOException failure(String what) {
        return new IOException("local Kafka in " + dataDir + ": " + what + "; see " + logFile()
                + LogTail.of(logFile(), 15));
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean clusterAnswers(Map<String, Object> client) {
        Map<String, Object> c = new java.util.HashMap<>(client);
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        try (Admin admin = Admin.create(c)) {
            return !admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes()
                    .get(6, TimeUnit.SECONDS).isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker", e);
        } catch (Exception e) {
            return false;
        }
    }
}
