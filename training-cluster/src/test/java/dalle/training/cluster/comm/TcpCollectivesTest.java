package dalle.training.cluster.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpCollectivesTest {

    /** Not divisible by 2, 3 or 4, and more than one 1 MiB wire piece per chunk. */
    private static final int N = 3 * (1 << 18) + 7;

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void threadsWithTheirOwnSocketsMatchTheInProcessResultBitForBit(int w) throws Exception {
        List<String> addresses = freeLoopbackAddresses(w);
        TcpSettings settings = settings(Duration.ofSeconds(20));
        List<List<float[]>> tcp = onThreads(w, rank -> {
            try (Collectives c = TcpCollectives.connect(rank, addresses, settings)) {
                return CollectivesScenario.run(c, 11, N);
            }
        });
        List<List<float[]>> inProcess = InProcessCollectives.runOnThreads(w, c -> CollectivesScenario.run(c, 11, N));
        assertBitIdentical(inProcess, tcp);
    }

    @Test
    void fourOsProcessesMatchTheInProcessResultBitForBit(@TempDir Path dir) throws Exception {
        int w = 4;
        int n = 100_003;
        List<String> addresses = freeLoopbackAddresses(w);
        List<Process> workers = new ArrayList<>();
        ClusterSecret secret = ClusterSecret.random();
        for (int r = 0; r < w; r++) {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), CollectivesScenario.class.getName(),
                    Integer.toString(r), String.join(",", addresses), "21", Integer.toString(n),
                    dir.resolve("rank" + r).toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("log" + r).toFile());
            pb.environment().put(ClusterSecret.ENV, secret.text());
            workers.add(pb.start());
        }
        List<List<float[]>> tcp = new ArrayList<>();
        for (int r = 0; r < w; r++) {
            Process p = workers.get(r);
            boolean done = p.waitFor(60, TimeUnit.SECONDS);
            if (!done) {
                workers.forEach(Process::destroyForcibly);
            }
            assertTrue(done, "worker " + r + " did not finish within 60 s");
            assertEquals(0, p.exitValue(), "worker " + r + " failed:\n" + Files.readString(dir.resolve("log" + r)));
            tcp.add(CollectivesScenario.read(dir.resolve("rank" + r)));
        }
        List<List<float[]>> inProcess = InProcessCollectives.runOnThreads(w, c -> CollectivesScenario.run(c, 21, n));
        assertBitIdentical(inProcess, tcp);
    }

    @Test
    void aPeerThatNeverShowsUpIsNamedInATimeoutError() throws Exception {
        // ranks 0 and 1 of 3 start; rank 2 never does
        List<String> addresses = freeLoopbackAddresses(3);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            TcpSettings settings = settings(Duration.ofMillis(1500));
            Future<?> rank0 = pool.submit(() -> TcpCollectives.connect(0, addresses, settings));
            Future<?> rank1 = pool.submit(() -> TcpCollectives.connect(1, addresses, settings));
            Throwable waiting = assertThrows(Exception.class, rank0::get).getCause();
            Throwable connecting = assertThrows(Exception.class, rank1::get).getCause();
            assertTrue(waiting instanceof CollectiveException);
            assertEquals("rank 0 of group 'world': rank 2 (world rank 2, " + addresses.get(2)
                    + ") did not connect within 1500 ms", waiting.getMessage());
            assertTrue(connecting.getMessage().startsWith("rank 1 of group 'world': could not connect to rank 2 (world rank 2, "
                    + addresses.get(2) + ") within 1500 ms"), connecting.getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void malformedAddressesAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TcpCollectives.connect(0, List.of("localhost"), settings(Duration.ofSeconds(1))));
        assertEquals("address 'localhost' is not host:port with a port in [1, 65535]", e.getMessage());
    }

    /** Loopback, a new random secret (share the result between the ranks of one ring), the given connect timeout. */
    static TcpSettings settings(Duration connectTimeout) {
        return TcpSettings.of(ClusterSecret.random()).withConnectTimeout(connectTimeout);
    }

    static List<String> freeLoopbackAddresses(int w) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i < w; i++) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                out.add("127.0.0.1:" + s.getLocalPort());
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return out;
    }

    private static <T> List<T> onThreads(int w, Function<Integer, T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < w; r++) {
                int rank = r;
                futures.add(pool.submit(() -> body.apply(rank)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assertBitIdentical(List<List<float[]>> expected, List<List<float[]>> actual) {
        assertEquals(expected.size(), actual.size());
        for (int r = 0; r < expected.size(); r++) {
            assertEquals(expected.get(r).size(), actual.get(r).size(), "results of rank " + r);
            for (int k = 0; k < expected.get(r).size(); k++) {
                assertArrayEquals(bits(expected.get(r).get(k)), bits(actual.get(r).get(k)), "rank " + r + " result " + k);
            }
        }
    }

    private static int[] bits(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Float.floatToRawIntBits(a[i]);
        }
        return out;
    }
}
