package dalle.tools.localkafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * A real Apache Kafka broker for one machine: the {@code kafka_2.13} artifact run as a child JVM in KRaft
 * combined mode (one node that is both broker and controller), listening on 127.0.0.1 only. No Docker, no
 * downloads: the broker's classpath is {@code tools/local-kafka/target/kafka-lib}, which the build copies from
 * Maven Central.
 *
 * <p>Everything lives under the data folder: {@code server.properties}, {@code log4j2.properties},
 * {@code kafka-logs/} (partitions and the KRaft metadata log) and {@code broker.log} (the broker's output, the
 * storage formatting included). Storage is formatted on first start only, so a restart on the same folder keeps
 * the topics and their records; unless ports are given, a restart reuses the previous ports when they are free.
 *
 * <pre>{@code
 * try (LocalKafka kafka = LocalKafka.builder(Path.of(".dalle/kafka")).start()) {
 *     String bootstrap = kafka.bootstrapServers();   // "127.0.0.1:<port>"
 * }
 * }</pre>
 *
 * <p>Limits: one node, so replication factors above 1 are impossible; topics are not auto-created (create them
 * with the topic registry's setup). Start takes ~5-10 s on two cores (format ~3 s the first time); the broker
 * uses ~360 MB RSS with the default 512 MB heap. A JVM shutdown hook stops the broker if the owner forgets,
 * but a SIGKILLed owner leaves it running (its pid is {@link #pid()}).
 */
public final class LocalKafka implements AutoCloseable {

    /** System property naming the broker classpath folder; overrides the discovery of target/kafka-lib. */
    public static final String KAFKA_LIB_PROPERTY = "local-kafka.lib";

    private final Path dataDir;
    private final Path logFile;
    private final int port;
    private final int controllerPort;
    private final String clusterId;
    private final Process process;
    private final Duration stopTimeout;
    private final Thread shutdownHook;
    private final BrokerTls tls;

    private LocalKafka(Builder b, int port, int controllerPort, String clusterId, Process process, BrokerTls tls) {
        this.tls = tls;
        this.dataDir = b.dataDir;
        this.logFile = b.dataDir.resolve("broker.log");
        this.port = port;
        this.controllerPort = controllerPort;
        this.clusterId = clusterId;
        this.process = process;
        this.stopTimeout = b.stopTimeout;
        this.shutdownHook = b.detached ? null : new Thread(this::stop, "local-kafka-shutdown");
        if (shutdownHook != null) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /** A builder for a broker whose files live under {@code dataDir} (created if missing). */
    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** PLAINTEXT, or SASL_SSL for a broker built with {@link Builder#saslSsl(boolean)}. */
    public String securityProtocol() {
        return tls == null ? "PLAINTEXT" : "SASL_SSL";
    }

    /**
     * The clients' truststore of a SASL_SSL broker: its self-signed certificate (for 127.0.0.1 and localhost),
     * PEM, under {@code <data>/tls/}.
     *
     * @throws IllegalStateException for a PLAINTEXT broker
     */
    public Path truststore() {
        return secure().truststore();
    }

    /** The SCRAM-SHA-512 super user of a SASL_SSL broker (its own, used between it and itself). */
    public String adminUser() {
        secure();
        return BrokerTls.ADMIN;
    }

    /** The password of {@link #adminUser()}. */
    public String adminPassword() {
        return secure().adminPassword();
    }

    /**
     * Raw Kafka client properties (bootstrap, {@code security.protocol}, SCRAM-SHA-512 JAAS, PEM truststore) for
     * {@code user}: what a test needs without the project's own configuration keys. Only bootstrap for PLAINTEXT.
     */
    public Map<String, Object> clientProperties(String user, String password) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrapServers());
        if (tls != null) {
            c.put("security.protocol", "SASL_SSL");
            c.put("sasl.mechanism", "SCRAM-SHA-512");
            c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + user + "\" password=\"" + password + "\";");
            c.put("ssl.truststore.location", tls.truststore().toAbsolutePath().toString());
            c.put("ssl.truststore.type", "PEM");
        }
        return c;
    }

    /** {@link #clientProperties} of the admin (the super user); only bootstrap for PLAINTEXT. */
    public Map<String, Object> adminProperties() {
        return tls == null ? clientProperties("", "") : clientProperties(BrokerTls.ADMIN, tls.adminPassword());
    }

    /**
     * Creates (or changes the password of) a SCRAM-SHA-512 user through the Admin API, as the admin.
     *
     * @throws IllegalStateException for a PLAINTEXT broker
     */
    public void addScramUser(String user, String password) throws IOException {
        secure();
        try (Admin admin = Admin.create(adminProperties())) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("cannot create the SCRAM user " + user + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating the SCRAM user " + user, e);
        }
    }

    private BrokerTls secure() {
        if (tls == null) {
            throw new IllegalStateException("this broker is PLAINTEXT; build it with saslSsl(...)");
        }
        return tls;
    }

    /** The client port. */
    public int port() {
        return port;
    }

    /** The KRaft controller port (internal; clients never use it). */
    public int controllerPort() {
        return controllerPort;
    }

    /** The cluster id the storage was formatted with (the same across restarts on one data folder). */
    public String clusterId() {
        return clusterId;
    }

    /** The data folder. */
    public Path dataDir() {
        return dataDir;
    }

    /** The broker's output: format and server log, appended across restarts. */
    public Path logFile() {
        return logFile;
    }

    /** The broker JVM's process id. */
    public long pid() {
        return process.pid();
    }

    /** Whether the broker process is alive. */
    public boolean isRunning() {
        return process.isAlive();
    }

    /**
     * Stops the broker: SIGTERM (a controlled shutdown that flushes the logs), then SIGKILL if it is still alive
     * after the stop timeout. Idempotent.
     */
    @Override
    public void close() {
        try {
            if (shutdownHook != null) {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            }
        } catch (IllegalStateException shuttingDown) {
            // The JVM is exiting; the hook runs stop() itself.
        }
        stop();
    }

    private void stop() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The broker classpath folder: the {@value #KAFKA_LIB_PROPERTY} system property if set, else
     * {@code target/kafka-lib} beside this class's own build output (target/classes or the module jar), else
     * {@code <dalle.home>/tools/local-kafka/target/kafka-lib}.
     */
    public static Path defaultKafkaLib() {
        String property = System.getProperty(KAFKA_LIB_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        List<Path> candidates = new ArrayList<>();
        try {
            Path code = Path.of(LocalKafka.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (code.getParent() != null) {
                candidates.add(code.getParent().resolve("kafka-lib"));
            }
        } catch (Exception e) {
            // No usable code location (unusual class loader): fall through to dalle.home.
        }
        String home = System.getProperty("dalle.home");
        if (home != null) {
            candidates.add(Path.of(home, "tools", "local-kafka", "target", "kafka-lib"));
        }
        for (Path candidate : candidates) {
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return candidates.isEmpty() ? Path.of("tools", "local-kafka", "target", "kafka-lib") : candidates.get(0);
    }

    /** Settings of a {@link LocalKafka}; {@link #start()} launches it. */
    public static final class Builder {
        private final Path dataDir;
        private Path kafkaLib;
        private int port;
        private int controllerPort;
        private List<String> jvmOptions = List.of("-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true");
        private Duration startTimeout = Duration.ofSeconds(90);
        private Duration stopTimeout = Duration.ofSeconds(30);
        private boolean detached;
        private boolean saslSsl;
        private boolean authorizer;

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
        }

        /** The broker classpath folder (jars); default {@link LocalKafka#defaultKafkaLib()}. */
        public Builder kafkaLib(Path dir) {
            this.kafkaLib = Objects.requireNonNull(dir, "kafkaLib");
            return this;
        }

        /** The client port, 1..65535; default 0 = the previous run's port if free, else any free port. */
        public Builder port(int port) {
            this.port = checkPort("port", port);
            return this;
        }

        /** The controller port, 1..65535; default 0 = the previous run's if free, else any free port. */
        public Builder controllerPort(int port) {
            this.controllerPort = checkPort("controllerPort", port);
            return this;
        }

        /** Options of the broker JVM; default {@code -Xmx512m} with G1 as Kafka's own scripts set it. */
        public Builder jvmOptions(List<String> options) {
            this.jvmOptions = List.copyOf(options);
            return this;
        }

        /**
         * Whether the broker outlives this JVM (for {@code dalle up}): no shutdown hook stops it, and it runs in a
         * session of its own ({@code setsid}, where available), so neither this JVM's exit nor the terminal's
         * hang-up reaches it. {@link LocalKafka#close()} still stops it; otherwise stop it by {@link LocalKafka#pid()}.
         * Default false: the broker stops with this JVM.
         */
        public Builder detached(boolean detached) {
            this.detached = detached;
            return this;
        }

        /**
         * A SASL_SSL client listener instead of PLAINTEXT: TLS with a certificate made for this data folder
         * ({@link LocalKafka#truststore()}) and SCRAM-SHA-512 logins; the super user {@link LocalKafka#adminUser()}
         * exists from the start, more users come from {@link LocalKafka#addScramUser}. With {@code authorizer},
         * Kafka's StandardAuthorizer is on: only the super user may do anything until ACLs allow others. The
         * controller listener (127.0.0.1) stays PLAINTEXT. Default: PLAINTEXT, no authorizer. A folder keeps the
         * kind it was first formatted with.
         */
        public Builder saslSsl(boolean authorizer) {
            this.saslSsl = true;
            this.authorizer = authorizer;
            return this;
        }

        /** How long {@link #start()} waits for the broker to be ready; default 90 s. */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = positive("startTimeout", timeout);
            return this;
        }

        /** How long {@link LocalKafka#close()} waits after SIGTERM before it kills; default 30 s. */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = positive("stopTimeout", timeout);
            return this;
        }

        /**
         * Formats the storage if it is new, starts the broker and waits until a client can talk to it.
         *
         * @throws IOException when the classpath is missing, formatting fails, or the broker exits or is not
         *     ready within the start timeout; the message names the log file and quotes its last lines
         */
        public LocalKafka start() throws IOException {
            BrokerProcess broker = new BrokerProcess(dataDir, kafkaLib != null ? kafkaLib : defaultKafkaLib(),
                    jvmOptions, startTimeout, detached);
            broker.checkKafkaLib();
            Files.createDirectories(dataDir);
            Path serverProperties = dataDir.resolve("server.properties");
            Path logDir = dataDir.resolve("kafka-logs");
            if (BrokerFiles.isLocked(logDir.resolve(".lock"))) {
                throw new IOException("local Kafka in " + dataDir + ": another broker is running on this folder (it"
                        + " holds " + logDir.resolve(".lock") + "); stop it or use another folder; its log is "
                        + broker.logFile());
            }
            int[] previous = BrokerFiles.previousPorts(serverProperties);
            int brokerPort = port != 0 ? port : BrokerFiles.freePortPreferring(previous[0], -1);
            int ctlPort = controllerPort != 0 ? controllerPort
                    : BrokerFiles.freePortPreferring(previous[1], brokerPort);
            if (brokerPort == ctlPort) {
                throw new IllegalArgumentException("port and controllerPort are both " + brokerPort);
            }
            Path meta = logDir.resolve("meta.properties");
            Path tlsDir = dataDir.resolve("tls");
            if (Files.exists(meta) && saslSsl != Files.exists(tlsDir.resolve("admin.password"))) {
                throw new IOException("local Kafka in " + dataDir + ": the folder was formatted "
                        + (saslSsl ? "PLAINTEXT" : "SASL_SSL") + "; start it as it was, or use another folder");
            }
            BrokerTls tls = saslSsl ? BrokerTls.ensure(tlsDir, authorizer, startTimeout) : null;
            Files.writeString(serverProperties, BrokerFiles.serverProperties(brokerPort, ctlPort, logDir, tls),
                    StandardCharsets.UTF_8);
            Path log4j = dataDir.resolve("log4j2.properties");
            Files.writeString(log4j, BrokerFiles.LOG4J2, StandardCharsets.UTF_8);

            if (!Files.exists(meta)) {
                broker.format(serverProperties, log4j, tls == null ? List.of() : tls.formatArguments());
            }
            String clusterId = BrokerFiles.readProperty(meta, "cluster.id");

            long logOffset = Files.exists(broker.logFile()) ? Files.size(broker.logFile()) : 0;
            Process process = broker.launch(log4j, "kafka.Kafka", List.of(serverProperties.toString()));
            LocalKafka kafka = new LocalKafka(this, brokerPort, ctlPort, clusterId, process, tls);
            try {
                broker.awaitReady(process, kafka.adminProperties(), brokerPort, logOffset);
            } catch (IOException | RuntimeException e) {
                kafka.close();
                throw e;
            }
            return kafka;
        }

        private static int checkPort(String name, int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(name + " " + port + " is outside 1..65535");
            }
            return port;
        }

        private static Duration positive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " " + d + " is not positive");
            }
            return d;
        }
    }

    /** For diagnostics: the properties the broker runs with. */
    public Properties serverProperties() throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(dataDir.resolve("server.properties"), StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p;
    }
}
