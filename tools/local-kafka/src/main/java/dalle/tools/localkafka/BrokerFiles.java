package dalle.tools.localkafka;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The files of a {@link LocalKafka} data folder and the small helpers around them. */
final class BrokerFiles {

    /** INFO to stdout (the process output goes to broker.log); per-request and state-change chatter off. */
    static final String LOG4J2 = """
            # Written by LocalKafka on every start.
            status = warn
            appender.out.type = Console
            appender.out.name = out
            appender.out.layout.type = PatternLayout
            appender.out.layout.pattern = [%d] %p %m (%c)%n
            rootLogger.level = INFO
            rootLogger.appenderRef.out.ref = out
            logger.request.name = kafka.request.logger
            logger.request.level = WARN
            logger.statechange.name = state.change.logger
            logger.statechange.level = WARN
            # The full config dumps (four per start): server.properties beside this file says what was set.
            logger.config.name = org.apache.kafka.common.config.AbstractConfig
            logger.config.level = WARN
            """;

    private static final Pattern LISTENER = Pattern.compile("(PLAINTEXT|SASL_SSL|CONTROLLER)://[^:,]+:(\\d+)");

    private BrokerFiles() {
    }

    /** server.properties of a one-node KRaft cluster (broker + controller) on 127.0.0.1, PLAINTEXT. */
    static String serverProperties(int port, int controllerPort, Path logDir) {
        return serverProperties(port, controllerPort, logDir, null);
    }

    /**
     * server.properties of a one-node KRaft cluster (broker + controller) on 127.0.0.1: the client listener is
     * PLAINTEXT, or SASL_SSL (SCRAM-SHA-512 over TLS, also used between the broker and itself) when
     * {@code tls} is given.
     */
    static String serverProperties(int port, int controllerPort, Path logDir, BrokerTls tls) {
        String listener = tls == null ? "PLAINTEXT" : "SASL_SSL";
        List<String> lines = new java.util.ArrayList<>(List.of(
                "# Written by LocalKafka on every start: one node, broker and controller, 127.0.0.1 only.",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=" + listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=" + listener + "://127.0.0.1:" + port,
                "listener.security.protocol.map=" + listener + ":" + listener + ",CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=" + listener,
                "controller.listener.names=CONTROLLER"));
        if (tls != null) {
            lines.addAll(tls.serverProperties());
        }
        lines.addAll(List.of(
                "log.dirs=" + logDir.toAbsolutePath(),
                "# Topics come from the registry (dalle topics apply), never from a typo.",
                "auto.create.topics.enable=false",
                "num.partitions=1",
                "default.replication.factor=1",
                "min.insync.replicas=1",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                ""));
        return String.join("\n", lines).replace("\\", "\\\\");
    }

    /** {client (PLAINTEXT or SASL_SSL) port, CONTROLLER port} of an earlier server.properties, 0 where unknown. */
    static int[] previousPorts(Path serverProperties) throws IOException {
        int[] ports = {0, 0};
        if (!Files.exists(serverProperties)) {
            return ports;
        }
        Matcher m = LISTENER.matcher(readProperty(serverProperties, "listeners"));
        while (m.find()) {
            ports[m.group(1).equals("CONTROLLER") ? 1 : 0] = Integer.parseInt(m.group(2));
        }
        return ports;
    }

    /** {@code preferred} if it is a port that is free on 127.0.0.1, else any free port other than {@code avoid}. */
    static int freePortPreferring(int preferred, int avoid) throws IOException {
        if (preferred > 0 && preferred != avoid && isFree(preferred)) {
            return preferred;
        }
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (s.getLocalPort() != avoid) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no free port on 127.0.0.1");
    }

    private static boolean isFree(int port) {
        try {
            new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether another process holds the lock that a running broker keeps on its log directory. */
    static boolean isLocked(Path lockFile) throws IOException {
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // held by this JVM
        }
    }

    /** One property of a properties file, "" if absent. */
    static String readProperty(Path file, String key) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p.getProperty(key, "");
    }

    /** Whether the file, from byte {@code offset} on, contains {@code text}. */
    static boolean logContains(Path file, long offset, String text) throws IOException {
        if (!Files.exists(file)) {
            return false;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            if (length <= offset) {
                return false;
            }
            byte[] bytes = new byte[(int) Math.min(length - offset, 64L << 20)];
            f.seek(offset);
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8).contains(text);
        }
    }
}
