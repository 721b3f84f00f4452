package dalle.training.cluster.comm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Collectives between processes (or pods) over plain TCP: the ring schedule of
 * {@link RingCollectives}, each rank sending to its successor over one socket and receiving from
 * its predecessor over another. Results equal {@link InProcessCollectives}' bit for bit.
 *
 * <p><b>Rendezvous.</b> Every rank gets the same list of {@code host:port} addresses; rank i listens
 * on port i (all interfaces) and connects to its successor's address, retrying until the timeout
 * (peers may start in any order). A handshake names the group and both ranks and is acknowledged,
 * so a wrong address list fails at once. Sub-groups from {@link #split} open their own ring
 * connections through the same listening port.
 *
 * <p><b>Wire.</b> Each message is a 4-byte length (floats) then the floats, both little-endian
 * whatever the host's order, streamed through 1 MiB direct buffers; the receiver reduces each
 * piece as it arrives while the send runs on its own thread.
 */
public final class TcpCollectives extends RingCollectives {

    /** Default rendezvous timeout: how long to wait for a peer to listen or to connect. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final Endpoint endpoint;
    private final boolean ownsEndpoint;
    private final TcpRingLink link;

    private TcpCollectives(Endpoint endpoint, boolean ownsEndpoint, String id, int[] worldRanks, int rank) {
        super(id, worldRanks, rank);
        this.endpoint = endpoint;
        this.ownsEndpoint = ownsEndpoint;
        this.link = worldRanks.length == 1 ? null : connectRing();
    }

    /**
     * Joins the world group as {@code rank}: listens on {@code addresses.get(rank)}'s port and
     * connects the ring. Blocks until both ring neighbours are connected.
     *
     * @param addresses every rank's {@code host:port}, the same list on every rank
     * @param timeout   how long to wait for each neighbour before failing with its rank and address
     * @throws CollectiveException naming the peer that did not show up, or the port that is taken
     */
    public static TcpCollectives connect(int rank, List<String> addresses, Duration timeout) {
        if (rank < 0 || rank >= addresses.size()) {
            throw new IllegalArgumentException("rank " + rank + " is outside the " + addresses.size() + " addresses");
        }
        List<InetSocketAddress> parsed = new ArrayList<>();
        for (String a : addresses) {
            parsed.add(parse(a));
        }
        Endpoint endpoint = new Endpoint(rank, parsed, timeout);
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
        long deadline = System.nanoTime() + endpoint.timeout.toNanos();
        SocketChannel out = endpoint.connect(groupId(), worldRank(next), deadline, who(), peer(next));
        try {
            SocketChannel in = endpoint.awaitFrom(groupId(), worldRank(prev), deadline, who(), peer(prev));
            return new TcpRingLink(out, in, who(), peer(next), peer(prev));
        } catch (RuntimeException e) {
            closeQuietly(out);
            throw e;
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing on an error path: the original error is the one to report
        }
    }

    /** This rank's listening socket and the incoming ring connections it has accepted, by group and sender. */
    private static final class Endpoint {
        private static final int MAGIC = 0x44524e47; // "DRNG"
        private final int rank;
        private final List<InetSocketAddress> addresses;
        private final Duration timeout;
        private final ServerSocketChannel server;
        private final Map<String, CompletableFuture<SocketChannel>> incoming = new ConcurrentHashMap<>();
        private final Thread acceptor;

        Endpoint(int rank, List<InetSocketAddress> addresses, Duration timeout) {
            this.rank = rank;
            this.addresses = addresses;
            this.timeout = timeout;
            int port = addresses.get(rank).getPort();
            try {
                server = ServerSocketChannel.open();
                server.bind(new InetSocketAddress(port));
            } catch (IOException e) {
                throw new CollectiveException("rank " + rank + ": cannot listen on port " + port + ": " + e.getMessage(), e);
            }
            acceptor = new Thread(this::acceptLoop, "collectives-accept-" + rank);
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String name(int worldRank) {
            InetSocketAddress a = addresses.get(worldRank);
            return a.getHostString() + ":" + a.getPort();
        }

        private void acceptLoop() {
            while (server.isOpen()) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (IOException e) {
                    return; // closed
                }
                try {
                    ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer head = readFully(ch, 16);
                    int magic = head.getInt();
                    int to = head.getInt();
                    int from = head.getInt();
                    int idLength = head.getInt();
                    if (magic != MAGIC || idLength < 0 || idLength > 4096) {
                        ch.close();
                        continue;
                    }
                    String group = StandardCharsets.UTF_8.decode(readFully(ch, idLength)).toString();
                    boolean mine = to == rank;
                    ch.write(ByteBuffer.wrap(new byte[] {(byte) (mine ? 1 : 0)}));
                    if (!mine) {
                        ch.close();
                        continue;
                    }
                    incoming.computeIfAbsent(group + "#" + from, k -> new CompletableFuture<>()).complete(ch);
                } catch (IOException e) {
                    closeQuietly(ch);
                }
            }
        }

        /** Connects to {@code toWorldRank}, retrying refused connections until the deadline. */
        SocketChannel connect(String group, int toWorldRank, long deadline, String who, String peer) {
            InetSocketAddress target = addresses.get(toWorldRank);
            IOException last = null;
            do {
                SocketChannel ch = null;
                try {
                    ch = SocketChannel.open();
                    long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                    ch.socket().connect(new InetSocketAddress(target.getHostString(), target.getPort()),
                            (int) Math.min(Integer.MAX_VALUE, leftMs));
                    ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                    byte[] id = group.getBytes(StandardCharsets.UTF_8);
                    ByteBuffer hello = ByteBuffer.allocate(16 + id.length);
                    hello.putInt(MAGIC).putInt(toWorldRank).putInt(rank).putInt(id.length).put(id).flip();
                    while (hello.hasRemaining()) {
                        ch.write(hello);
                    }
                    if (readFully(ch, 1).get() != 1) {
                        ch.close();
                        throw new CollectiveException(who + ": " + target.getHostString() + ":" + target.getPort()
                                + " is not " + peer + " (are the address lists the same on every rank?)");
                    }
                    return ch;
                } catch (IOException e) {
                    last = e;
                    if (ch != null) {
                        closeQuietly(ch);
                    }
                    sleepMillis(50);
                }
            } while (System.nanoTime() < deadline);
            throw new CollectiveException(who + ": could not connect to " + peer + " within "
                    + timeout.toMillis() + " ms (last error: " + last + ")", last);
        }

        /** Waits for the ring connection from {@code fromWorldRank} in {@code group}. */
        SocketChannel awaitFrom(String group, int fromWorldRank, long deadline, String who, String peer) {
            CompletableFuture<SocketChannel> f = incoming.computeIfAbsent(group + "#" + fromWorldRank,
                    k -> new CompletableFuture<>());
            try {
                SocketChannel ch = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                incoming.remove(group + "#" + fromWorldRank);
                return ch;
            } catch (TimeoutException e) {
                throw new CollectiveException(who + ": " + peer + " did not connect within " + timeout.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException(who + ": interrupted while waiting for " + peer, e);
            } catch (ExecutionException e) {
                throw new CollectiveException(who + ": connection from " + peer + " failed", e.getCause());
            }
        }

        void close() {
            closeQuietly(server);
            acceptor.interrupt();
            incoming.values().forEach(f -> f.thenAccept(TcpCollectives::closeQuietly));
        }

        private static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new IOException("connection closed during the handshake");
                }
            }
            return b.flip();
        }

        private static void sleepMillis(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("interrupted while connecting", e);
            }
        }
    }

    /** Byte order on the wire, explicit so that hosts of either order interoperate. */
    static final ByteOrder WIRE_ORDER = ByteOrder.LITTLE_ENDIAN;
}
