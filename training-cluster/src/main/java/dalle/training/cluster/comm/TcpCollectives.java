package dalle.training.cluster.comm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collectives between processes (or pods) over plain TCP: the ring schedule of
 * {@link RingCollectives}, each rank sending to its successor over one socket and receiving from
 * its predecessor over another. Results equal {@link InProcessCollectives}' bit for bit.
 *
 * <p><b>Rendezvous.</b> Every rank gets the same list of {@code host:port} addresses; rank i listens
 * on port i of the interface its {@link TcpSettings#bindHost()} names (never all interfaces by
 * default) and connects to its successor's address, retrying until the connect timeout (peers may
 * start in any order). Sub-groups from {@link #split} open their own ring connections through the
 * same listening port.
 *
 * <p><b>Security.</b> Every connection starts with a mutual proof of the job's {@link ClusterSecret}
 * ({@link RingHandshake}: HMAC-SHA256 over nonces from both ends, the claimed ranks and group bound into
 * it); anything else is dropped within the handshake timeout and logged once per address, and the rank
 * carries on. The data that follows is neither encrypted nor authenticated per message: on a network
 * where others can read or inject packets, run the ranks over an encrypted network (a CNI with
 * WireGuard/IPsec, a mesh with mTLS) and keep them behind a NetworkPolicy (deploy/training).
 *
 * <p><b>Wire.</b> Each message is a 4-byte length (floats) then the floats, both little-endian
 * whatever the host's order, streamed through 1 MiB direct buffers; the receiver reduces each
 * piece as it arrives on the caller's thread while the link's sender thread forwards what has been
 * reduced, so the steps of a collective overlap ({@link TcpRingLink}). A collective that makes no
 * progress either way for the peer timeout fails naming the peer.
 */
public final class TcpCollectives extends RingCollectives {

    private final RingEndpoint endpoint;
    private final boolean ownsEndpoint;
    private final TcpRingLink link;

    private TcpCollectives(RingEndpoint endpoint, boolean ownsEndpoint, String id, int[] worldRanks, int rank) {
        super(id, worldRanks, rank);
        this.endpoint = endpoint;
        this.ownsEndpoint = ownsEndpoint;
        this.link = worldRanks.length == 1 ? null : connectRing();
    }

    /**
     * Joins the world group as {@code rank}: listens on {@code settings.bindHost()} at
     * {@code addresses.get(rank)}'s port and connects the ring. Blocks until both ring neighbours are
     * connected and have proven the secret.
     *
     * @param addresses every rank's {@code host:port}, the same list on every rank
     * @throws CollectiveException naming the peer that did not show up or failed the handshake, or the
     *                             address that cannot be listened on
     */
    public static TcpCollectives connect(int rank, List<String> addresses, TcpSettings settings) {
        if (rank < 0 || rank >= addresses.size()) {
            throw new IllegalArgumentException("rank " + rank + " is outside the " + addresses.size() + " addresses");
        }
        List<InetSocketAddress> parsed = new ArrayList<>();
        for (String a : addresses) {
            parsed.add(parse(a));
        }
        RingEndpoint endpoint = new RingEndpoint(rank, parsed, settings);
        int[] world = new int[addresses.size()];
        Arrays.setAll(world, i -> i);
        try {
            return new TcpCollectives(endpoint, true, "world", world, rank);
        } catch (RuntimeException e) {
            endpoint.close();
            throw e;
        }
    }

    /** {@code host:port} → an unresolved address (resolved on each connection attempt, as pod DNS may come late). */
    public static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(address.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return InetSocketAddress.createUnresolved(address.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + address + "' is not host:port with a port in [1, 65535]");
        }
    }

    @Override
    RingLink link() {
        return link;
    }

    @Override
    RingCollectives subgroup(String id, int[] worldRanks, int rank) {
        return new TcpCollectives(endpoint, false, id, worldRanks, rank);
    }

    @Override
    public void close() {
        if (link != null) {
            link.close();
        }
        if (ownsEndpoint) {
            endpoint.close();
        }
    }

    private String who() {
        return "rank " + rank() + " of group '" + groupId() + "'";
    }

    private String peer(int groupRank) {
        int w = worldRank(groupRank);
        return "rank " + groupRank + " (world rank " + w + ", " + endpoint.name(w) + ")";
    }

    private TcpRingLink connectRing() {
        int w = worldSize();
        int next = (rank() + 1) % w;
        int prev = Math.floorMod(rank() - 1, w);
        TcpSettings settings = endpoint.settings();
        long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
        SocketChannel out = endpoint.connect(groupId(), worldRank(next), deadline, who(), peer(next));
        SocketChannel in = null;
        try {
            in = endpoint.awaitFrom(groupId(), worldRank(prev), deadline, who(), peer(prev));
            return new TcpRingLink(out, in, settings.peerTimeout().toNanos(), who(), peer(next), peer(prev));
        } catch (IOException e) {
            closeQuietly(out);
            closeQuietly(in);
            throw new CollectiveException(who() + ": cannot set up the ring sockets: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(out);
            closeQuietly(in);
            throw e;
        }
    }

    /** Connections this rank's listener has dropped (failed or incomplete handshakes); for tests and logs. */
    public long refusedConnections() {
        return endpoint.refusedConnections();
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing on an error path: the original error is the one to report
        }
    }

    /** Byte order on the wire, explicit so that hosts of either order interoperate. */
    static final ByteOrder WIRE_ORDER = ByteOrder.LITTLE_ENDIAN;
}
