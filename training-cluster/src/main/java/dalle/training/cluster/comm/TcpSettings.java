package dalle.training.cluster.comm;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How a rank's TCP transport listens, proves itself and waits ({@link TcpCollectives#connect}).
 *
 * @param bindHost         the interface the rank listens on: an address or host name ({@code 127.0.0.1}
 *                         for workers of one machine, the pod IP on Kubernetes). Never the wildcard by default
 * @param secret           what peers must prove in the handshake; ranks of one job share it
 * @param connectTimeout   how long to wait for a neighbour to listen and to connect (ranks start in any order)
 * @param handshakeTimeout how long an accepted connection may take to complete the handshake before it is dropped
 * @param peerTimeout      how long a collective may go without progress in either direction before it fails
 *                         naming the silent peer; longer than the largest skew between ranks (a slow step,
 *                         rank 0 writing a checkpoint) must be tolerated
 * @param log              where security notices go (a refused connection, logged once per remote address)
 */
public record TcpSettings(String bindHost, ClusterSecret secret, Duration connectTimeout, Duration handshakeTimeout,
                          Duration peerTimeout, Consumer<String> log) {

    /** Default of {@link #connectTimeout}. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);
    /** Default of {@link #handshakeTimeout}. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Default of {@link #peerTimeout}. */
    public static final Duration DEFAULT_PEER_TIMEOUT = Duration.ofMinutes(5);
    /** Default of {@link #bindHost}. */
    public static final String LOOPBACK = "127.0.0.1";

    public TcpSettings {
        if (bindHost == null || bindHost.isBlank()) {
            throw new IllegalArgumentException("a bind address is required (e.g. 127.0.0.1 or the pod IP)");
        }
        if (secret == null) {
            throw new IllegalArgumentException("a cluster secret is required: peers must prove it");
        }
        positive("connect timeout", connectTimeout);
        positive("handshake timeout", handshakeTimeout);
        positive("peer timeout", peerTimeout);
        if (log == null) {
            throw new IllegalArgumentException("a log is required (where refused connections are reported)");
        }
    }

    /** Loopback, the default timeouts, notices to stderr. */
    public static TcpSettings of(ClusterSecret secret) {
        return new TcpSettings(LOOPBACK, secret, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
                DEFAULT_PEER_TIMEOUT, System.err::println);
    }

    public TcpSettings withBindHost(String host) {
        return new TcpSettings(host, secret, connectTimeout, handshakeTimeout, peerTimeout, log);
    }

    public TcpSettings withConnectTimeout(Duration d) {
        return new TcpSettings(bindHost, secret, d, handshakeTimeout, peerTimeout, log);
    }

    public TcpSettings withHandshakeTimeout(Duration d) {
        return new TcpSettings(bindHost, secret, connectTimeout, d, peerTimeout, log);
    }

    public TcpSettings withPeerTimeout(Duration d) {
        return new TcpSettings(bindHost, secret, connectTimeout, handshakeTimeout, d, log);
    }

    public TcpSettings withLog(Consumer<String> sink) {
        return new TcpSettings(bindHost, secret, connectTimeout, handshakeTimeout, peerTimeout, sink);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("the " + what + " must be positive, got " + d);
        }
    }
}
