package dalle.training.cluster.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The ring's listeners over real loopback sockets: only peers that prove the job's secret join, idle or
 * foreign connections are dropped without holding a rank up, ranks listen on the configured interface
 * only, and a peer that stops taking part fails the collective, naming it, within the peer timeout.
 */
class TcpPeerSecurityTest {

    private static final ClusterSecret SECRET = ClusterSecret.of("the job's secret, 32 bytes long.");
    private static final ClusterSecret WRONG = ClusterSecret.of("another job's secret, also long.");

    @Test
    void aPeerWithAWrongSecretIsRefusedOnceAndTheRingStillFormsWithTheRightPeers() throws Exception {
        List<String> addresses = TcpCollectivesTest.freeLoopbackAddresses(3);
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        TcpSettings settings = TcpSettings.of(SECRET).withConnectTimeout(Duration.ofSeconds(30)).withLog(log::add);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            // Given rank 2 listening (its successor, rank 0, is not up yet)
            Future<float[]> rank2 = pool.submit(() -> sumOfRanks(2, addresses, settings));
            InetSocketAddress rank2Address = TcpCollectives.parse(addresses.get(2));
            // When an impostor with another secret claims to be rank 1 connecting to rank 2, twice
            for (int attempt = 0; attempt < 2; attempt++) {
                RingHandshake.Failed refused = assertThrows(RingHandshake.Failed.class,
                        () -> handshakeAs(1, 2, WRONG, rank2Address));
                assertTrue(refused.getMessage().contains("refused our proof of the cluster secret"), refused.getMessage());
            }
            // and then the real ranks 0 and 1 start
            Future<float[]> rank0 = pool.submit(() -> sumOfRanks(0, addresses, settings));
            Future<float[]> rank1 = pool.submit(() -> sumOfRanks(1, addresses, settings));
            // Then the ring of the three right peers forms and sums correctly
            for (Future<float[]> f : List.of(rank0, rank1, rank2)) {
                assertArrayEquals(new float[] {0 + 1 + 2, 3 * 7}, f.get(60, TimeUnit.SECONDS));
            }
            // and the impostor was logged once, by the rank it tried
            List<String> refusals = log.stream().filter(l -> l.contains("refused a connection")).toList();
            assertEquals(1, refusals.size(), log.toString());
            assertTrue(refusals.get(0).startsWith("rank 2 (127.0.0.1:" + rank2Address.getPort()
                    + "): refused a connection from 127.0.0.1:"), refusals.get(0));
            assertTrue(refusals.get(0).contains("failed the cluster-secret proof"), refusals.get(0));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anAddressThatCannotProveTheSecretIsNotJoined() throws Exception {
        // Given an impostor listening where rank 1 should be: it answers the handshake with a made-up proof
        try (ServerSocket impostor = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<String> addresses = List.of(TcpCollectivesTest.freeLoopbackAddresses(1).get(0),
                    "127.0.0.1:" + impostor.getLocalPort());
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                pool.submit(() -> {
                    try (Socket s = impostor.accept()) {
                        s.getOutputStream().write(ByteBuffer.allocate(8 + RingHandshake.NONCE_BYTES)
                                .putInt(RingHandshake.MAGIC).putInt(RingHandshake.VERSION).array());
                        s.getInputStream().readNBytes(16 + "world".length() + RingHandshake.NONCE_BYTES
                                + RingHandshake.MAC_BYTES);
                        byte[] reply = new byte[1 + RingHandshake.MAC_BYTES];
                        reply[0] = 1;
                        s.getOutputStream().write(reply);
                        s.getInputStream().read(); // hold the connection until rank 0 gives up
                    }
                    return null;
                });
                // When rank 0 connects its ring
                TcpSettings settings = TcpSettings.of(SECRET).withConnectTimeout(Duration.ofSeconds(10));
                CollectiveException e = assertThrows(CollectiveException.class,
                        () -> TcpCollectives.connect(0, addresses, settings));
                // Then it refuses the impostor, naming the address
                assertEquals("rank 0 of group 'world': rank 1 (world rank 1, " + addresses.get(1) + ") at "
                        + addresses.get(1) + ": it could not prove the cluster secret (another program on that"
                        + " address, or another job's secret)", e.getMessage());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void anIdleConnectionIsDroppedAfterTheHandshakeTimeoutWithoutHoldingTheRingUp() throws Exception {
        List<String> addresses = TcpCollectivesTest.freeLoopbackAddresses(2);
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        TcpSettings settings = TcpSettings.of(SECRET).withConnectTimeout(Duration.ofSeconds(30))
                .withHandshakeTimeout(Duration.ofMillis(700)).withLog(log::add);
        InetSocketAddress rank0Address = TcpCollectives.parse(addresses.get(0));
        CountDownLatch idleDropped = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<float[]> rank0 = pool.submit(() -> sumTwiceOfRanks(0, addresses, settings, idleDropped));
            // Given a client that connects to rank 0 and never says anything
            try (Socket idle = connectWhenListening(rank0Address)) {
                idle.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                // When rank 1 starts meanwhile
                Future<float[]> rank1 = pool.submit(() -> sumTwiceOfRanks(1, addresses, settings, idleDropped));
                // Then rank 0 cuts the idle client off once the handshake timeout has passed, while its ring lives
                InputStream in = idle.getInputStream();
                assertEquals(RingHandshake.NONCE_BYTES + 8, in.readNBytes(RingHandshake.NONCE_BYTES + 8).length,
                        "rank 0 opens with its challenge");
                assertEquals(-1, in.read(), "rank 0 closes the connection");
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertTrue(seconds >= 0.6 && seconds < 5, "dropped after " + seconds + " s, the handshake timeout is 0.7 s");
                idleDropped.countDown();
                // and the ring, formed meanwhile, sums twice
                assertArrayEquals(new float[] {2, 28}, rank0.get(60, TimeUnit.SECONDS));
                assertArrayEquals(new float[] {2, 28}, rank1.get(60, TimeUnit.SECONDS));
            }
            assertEquals(1, log.size(), log.toString());
            assertTrue(log.get(0).contains("no complete handshake within the handshake timeout"), log.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRankListensOnTheConfiguredInterfaceOnly() throws Exception {
        List<String> addresses = TcpCollectivesTest.freeLoopbackAddresses(1);
        int port = TcpCollectives.parse(addresses.get(0)).getPort();
        try (TcpCollectives c = TcpCollectives.connect(0, addresses, TcpSettings.of(SECRET))) {
            try (Socket viaLoopback = new Socket(InetAddress.getLoopbackAddress(), port)) {
                assertTrue(viaLoopback.isConnected());
            }
            Optional<InetAddress> other = nonLoopbackAddress();
            if (other.isEmpty()) {
                System.err.println("SKIPPED PART of aRankListensOnTheConfiguredInterfaceOnly: this machine has no"
                        + " non-loopback IPv4 address to try");
                return;
            }
            IOException refused = assertThrows(IOException.class, () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(other.get(), port), 2000);
                }
            });
            assertTrue(refused.getMessage().toLowerCase().contains("refused"), refused.toString());
        }
    }

    @Test
    void aPeerThatStopsTakingPartFailsTheCollectiveNamingItWithinThePeerTimeout() throws Exception {
        List<String> addresses = TcpCollectivesTest.freeLoopbackAddresses(3);
        TcpSettings settings = TcpSettings.of(SECRET).withConnectTimeout(Duration.ofSeconds(30))
                .withPeerTimeout(Duration.ofMillis(1500));
        CountDownLatch bothFailed = new CountDownLatch(2);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            // Given a ring of three in which rank 2 joins, then stops: it neither reads nor sends
            Future<Object> frozen = pool.submit(() -> {
                try (Collectives c = TcpCollectives.connect(2, addresses, settings)) {
                    Thread.sleep(60_000);
                }
                return null;
            });
            List<Future<CollectiveException>> others = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                others.add(pool.submit(() -> {
                    try (Collectives c = TcpCollectives.connect(r, addresses, settings)) {
                        float[] big = new float[16 << 20]; // 64 MiB: far more than the socket buffers hold
                        long t0 = System.nanoTime();
                        CollectiveException e = assertThrows(CollectiveException.class, () -> c.allReduceSum(big));
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        bothFailed.countDown();
                        assertTrue(bothFailed.await(30, TimeUnit.SECONDS)); // sockets stay open until both failed
                        assertTrue(seconds >= 1.4 && seconds < 6, "failed after " + seconds + " s, timeout 1.5 s");
                        return e;
                    }
                }));
            }
            // When ranks 0 and 1 all-reduce, each fails naming rank 2 and its address: rank 0 hears nothing
            // from it, rank 1 cannot send to it
            String rank2 = "rank 2 (world rank 2, " + addresses.get(2) + ")";
            CollectiveException atRank0 = others.get(0).get(60, TimeUnit.SECONDS);
            assertEquals("rank 0 of group 'world': no data from " + rank2 + " for 1500 ms (the peer timeout): it is"
                    + " frozen, overloaded or gone", atRank0.getMessage());
            CollectiveException atRank1 = others.get(1).get(60, TimeUnit.SECONDS);
            assertEquals("rank 1 of group 'world': " + rank2 + " has read nothing for 1500 ms (the peer timeout):"
                    + " it is frozen, overloaded or gone", atRank1.getMessage());
            frozen.cancel(true);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One all-reduce of {rank, 7} over a fresh ring; closes it. */
    private static float[] sumOfRanks(int rank, List<String> addresses, TcpSettings settings) {
        try (Collectives c = TcpCollectives.connect(rank, addresses, settings)) {
            float[] x = {rank, 7};
            c.allReduceSum(x);
            return x;
        }
    }

    /** All-reduces {rank, 7}, waits for {@code between}, all-reduces the result again; closes the ring. */
    private static float[] sumTwiceOfRanks(int rank, List<String> addresses, TcpSettings settings,
                                           CountDownLatch between) throws InterruptedException {
        try (Collectives c = TcpCollectives.connect(rank, addresses, settings)) {
            float[] x = {rank, 7};
            c.allReduceSum(x);
            assertTrue(between.await(30, TimeUnit.SECONDS));
            c.allReduceSum(x);
            return x;
        }
    }

    /** A client's side of the handshake with {@code secret}, claiming to be world rank {@code from}. */
    private static void handshakeAs(int from, int to, ClusterSecret secret, InetSocketAddress target) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(target.getHostString(), target.getPort()));
                 Selector selector = Selector.open()) {
                ch.configureBlocking(false);
                SelectionKey key = ch.register(selector, 0);
                RingHandshake.connect(key, secret, to, from, "world", System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
                return;
            } catch (IOException notListeningYet) {
                if (System.nanoTime() > deadline) {
                    throw notListeningYet;
                }
                Thread.sleep(50);
            }
        }
    }

    private static Socket connectWhenListening(InetSocketAddress target) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return new Socket(target.getHostString(), target.getPort());
            } catch (IOException notListeningYet) {
                if (System.nanoTime() > deadline) {
                    throw notListeningYet;
                }
                Thread.sleep(50);
            }
        }
    }

    private static Optional<InetAddress> nonLoopbackAddress() throws IOException {
        for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!n.isUp() || n.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(n.getInetAddresses())) {
                if (a instanceof java.net.Inet4Address) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }
}
