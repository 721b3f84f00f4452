package dalle.training.cluster.comm;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rank's listening socket, bound to the configured interface ({@link TcpSettings#bindHost()}),
 * and the ring connections it opens and accepts. Every accepted connection is handshaken
 * ({@link RingHandshake}) on its own thread within the handshake timeout, so an idle or slow client
 * holds nothing but its own slot; at most {@value #MAX_PENDING_HANDSHAKES} handshakes run at once.
 * A connection that fails the handshake is closed and reported to the settings' log, once per
 * remote address; the rank carries on.
 */
final class RingEndpoint implements AutoCloseable {

    static final int MAX_PENDING_HANDSHAKES = 64;

    private final int rank;
    private final List<InetSocketAddress> addresses;
    private final TcpSettings settings;
    private final ServerSocketChannel server;
    private final Map<String, CompletableFuture<SocketChannel>> incoming = new ConcurrentHashMap<>();
    private final Set<InetAddress> reported = ConcurrentHashMap.newKeySet();
    private final AtomicLong refused = new AtomicLong();
    private final Semaphore slots = new Semaphore(MAX_PENDING_HANDSHAKES);
    private final ExecutorService handshakes;
    private final Thread acceptor;
    private final String self;
    private volatile boolean closed;

    RingEndpoint(int rank, List<InetSocketAddress> addresses, TcpSettings settings) {
        this.rank = rank;
        this.addresses = addresses;
        this.settings = settings;
        int port = addresses.get(rank).getPort();
        this.self = settings.bindHost() + ":" + port;
        try {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getByName(settings.bindHost()), port), 128);
        } catch (IOException e) {
            throw new CollectiveException("rank " + rank + ": cannot listen on " + self + ": " + e.getMessage(), e);
        }
        handshakes = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "collectives-handshake-" + rank);
            t.setDaemon(true);
            return t;
        });
        acceptor = new Thread(this::acceptLoop, "collectives-accept-" + rank);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** {@code host:port} of a world rank, as the address list gives it. */
    String name(int worldRank) {
        InetSocketAddress a = addresses.get(worldRank);
        return a.getHostString() + ":" + a.getPort();
    }

    TcpSettings settings() {
        return settings;
    }

    /** Connections dropped so far (failed handshakes, or too many at once). */
    long refusedConnections() {
        return refused.get();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (!slots.tryAcquire()) {
                refuse(ch, "too many handshakes in progress (" + MAX_PENDING_HANDSHAKES + ")");
                continue;
            }
            try {
                handshakes.execute(() -> {
                    try {
                        handshake(ch);
                    } finally {
                        slots.release();
                    }
                });
            } catch (RuntimeException rejected) { // shutting down
                slots.release();
                TcpCollectives.closeQuietly(ch);
            }
        }
    }

    private void handshake(SocketChannel ch) {
        long deadline = System.nanoTime() + settings.handshakeTimeout().toNanos();
        try (Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            SelectionKey key = ch.register(selector, 0);
            RingHandshake.Claim claim = RingHandshake.accept(key, settings.secret(), rank, deadline);
            key.cancel();
            selector.selectNow(); // deregisters the channel before the ring's own selector takes it
            if (!incoming.computeIfAbsent(claim.group() + "#" + claim.from(), k -> new CompletableFuture<>())
                    .complete(ch)) {
                refuse(ch, "a second connection from rank " + claim.from() + " in group '" + claim.group() + "'");
            }
        } catch (RingHandshake.Refused e) {
            refuse(ch, e.getMessage());
        } catch (IOException e) {
            refuse(ch, "handshake failed: " + e.getMessage());
        }
    }

    /** Closes {@code ch} and logs why, the first time for each remote address. */
    private void refuse(SocketChannel ch, String reason) {
        if (closed) { // shutting down: pending handshakes end here, nobody is refused
            TcpCollectives.closeQuietly(ch);
            return;
        }
        refused.incrementAndGet();
        InetSocketAddress remote = null;
        try {
            remote = (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException ignored) {
            // already closed: reported without its address
        }
        TcpCollectives.closeQuietly(ch);
        if (remote == null || reported.add(remote.getAddress())) {
            settings.log().accept("rank " + rank + " (" + self + "): refused a connection from "
                    + (remote == null ? "an unknown address" : remote.getAddress().getHostAddress() + ":" + remote.getPort())
                    + ": " + reason + (remote == null ? "" : " (further refusals from "
                    + remote.getAddress().getHostAddress() + " are not logged)"));
        }
    }

    /**
     * Opens the ring connection to {@code toWorldRank} and proves the secret, retrying refused connections
     * (the peer may not listen yet) until the deadline.
     */
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
            } catch (IOException e) {
                last = e;
                if (ch != null) {
                    TcpCollectives.closeQuietly(ch);
                }
                sleepMillis(50);
                continue;
            }
            long handshakeDeadline = System.nanoTime() + settings.handshakeTimeout().toNanos();
            try (Selector selector = Selector.open()) {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                SelectionKey key = ch.register(selector, 0);
                RingHandshake.connect(key, settings.secret(), toWorldRank, rank, group, handshakeDeadline);
                key.cancel();
                selector.selectNow();
                return ch;
            } catch (RingHandshake.Failed e) {
                TcpCollectives.closeQuietly(ch);
                throw new CollectiveException(who + ": " + peer + " at " + target.getHostString() + ":"
                        + target.getPort() + ": " + e.getMessage());
            } catch (IOException e) {
                TcpCollectives.closeQuietly(ch);
                throw new CollectiveException(who + ": handshake with " + peer + " failed: " + e.getMessage(), e);
            }
        } while (System.nanoTime() < deadline);
        throw new CollectiveException(who + ": could not connect to " + peer + " within "
                + settings.connectTimeout().toMillis() + " ms (last error: " + last + ")", last);
    }

    /** Waits for the proven ring connection from {@code fromWorldRank} in {@code group}. */
    SocketChannel awaitFrom(String group, int fromWorldRank, long deadline, String who, String peer) {
        String k = group + "#" + fromWorldRank;
        CompletableFuture<SocketChannel> f = incoming.computeIfAbsent(k, x -> new CompletableFuture<>());
        try {
            SocketChannel ch = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            incoming.remove(k);
            return ch;
        } catch (TimeoutException e) {
            throw new CollectiveException(who + ": " + peer + " did not connect within "
                    + settings.connectTimeout().toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException(who + ": interrupted while waiting for " + peer, e);
        } catch (ExecutionException e) {
            throw new CollectiveException(who + ": connection from " + peer + " failed", e.getCause());
        }
    }

    @Override
    public void close() {
        closed = true;
        TcpCollectives.closeQuietly(server);
        acceptor.interrupt();
        handshakes.shutdownNow();
        incoming.values().forEach(f -> f.thenAccept(TcpCollectives::closeQuietly));
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
