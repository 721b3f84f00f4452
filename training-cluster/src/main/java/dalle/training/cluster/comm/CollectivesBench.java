package dalle.training.cluster.comm;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Measurements behind {@code dalle bench collectives}: the raw throughput of one loopback TCP
 * stream and the aggregate of W concurrent ones (the fair ceiling of a ring of W links sharing this
 * machine's CPUs), and ring all-reduce over loopback TCP among W workers — threads of this JVM, each with its
 * own {@link TcpCollectives} and its own sockets (the kernel's TCP path is the same as between
 * processes; only the JVM is shared).
 *
 * <p>Bandwidths follow nccl-tests: algbw = S / t for a buffer of S bytes, busbw = algbw · 2(n−1)/n,
 * the rate each link must carry, comparable with the raw link throughput.
 */
public final class CollectivesBench {

    private CollectivesBench() {}

    /**
     * One timed point: {@code bytes} per rank; medians of the repetitions, rates in bytes per second.
     *
     * @param fairShare the aggregate of W concurrent loopback streams divided by W, measured right before
     *                  each repetition (the median of those)
     * @param busbwOverFair the median over repetitions of busbw ÷ the fair share measured next to it: pairs
     *                  taken moments apart see the same background load on a shared machine
     */
    public record AllReduceResult(int workers, long bytes, double seconds, double algbw, double busbw,
                                  double fairShare, double busbwOverFair) {}

    /**
     * Bytes per second of one TCP stream over 127.0.0.1: a writer thread sends {@code bytes} from a
     * 1 MiB direct buffer, a reader thread reads them into another; the median of {@code repeat} runs.
     */
    public static double rawLoopback(long bytes, int repeat) {
        return concurrentLoopback(1, bytes, repeat);
    }

    /**
     * Aggregate bytes per second of {@code streams} concurrent TCP streams over 127.0.0.1, each
     * carrying {@code bytesEach} from its own writer thread to its own reader thread (1 MiB direct
     * buffers): total bytes over the time from the common start until the last stream has delivered
     * everything; the median of {@code repeat} runs. With {@code streams} = W this is the fair ceiling
     * of a ring of W links on this machine, whose links share its CPUs the same way.
     */
    public static double concurrentLoopback(int streams, long bytesEach, int repeat) {
        if (streams < 1 || repeat < 1 || bytesEach < 1) {
            throw new IllegalArgumentException("streams " + streams + ", bytes " + bytesEach + " and repeat " + repeat
                    + " must be positive");
        }
        double[] rates = new double[repeat];
        ExecutorService threads = Executors.newFixedThreadPool(2 * streams);
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            for (int r = 0; r < repeat; r++) {
                List<SocketChannel> ins = new ArrayList<>();
                List<SocketChannel> outs = new ArrayList<>();
                try {
                    for (int k = 0; k < streams; k++) {
                        outs.add(SocketChannel.open(server.getLocalAddress()));
                        ins.add(server.accept());
                    }
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<Void>> sent = new ArrayList<>();
                    List<Future<Long>> received = new ArrayList<>();
                    for (int k = 0; k < streams; k++) {
                        SocketChannel out = outs.get(k);
                        SocketChannel in = ins.get(k);
                        sent.add(threads.submit(() -> write(out, bytesEach, start)));
                        received.add(threads.submit(() -> read(in, bytesEach, start)));
                    }
                    long t0 = System.nanoTime();
                    start.countDown();
                    long last = t0;
                    for (Future<Long> f : received) {
                        last = Math.max(last, f.get());
                    }
                    for (Future<Void> f : sent) {
                        f.get();
                    }
                    rates[r] = streams * (double) bytesEach / ((last - t0) / 1e9);
                } finally {
                    outs.forEach(TcpCollectives::closeQuietly);
                    ins.forEach(TcpCollectives::closeQuietly);
                }
            }
        } catch (IOException | ExecutionException e) {
            throw new CollectiveException("loopback throughput measurement failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted", e);
        } finally {
            threads.shutdownNow();
        }
        Arrays.sort(rates);
        return rates[repeat / 2];
    }

    private static Void write(SocketChannel out, long bytes, CountDownLatch start) throws IOException,
            InterruptedException {
        ByteBuffer b = ByteBuffer.allocateDirect(TcpRingLink.PIECE_BYTES);
        start.await();
        for (long left = bytes; left > 0; ) {
            b.clear().limit((int) Math.min(b.capacity(), left));
            while (b.hasRemaining()) {
                left -= out.write(b);
            }
        }
        return null;
    }

    /** Reads {@code bytes}; returns System.nanoTime() when the last one arrived. */
    private static long read(SocketChannel in, long bytes, CountDownLatch start) throws IOException,
            InterruptedException {
        ByteBuffer b = ByteBuffer.allocateDirect(TcpRingLink.PIECE_BYTES);
        start.await();
        for (long got = 0; got < bytes; ) {
            b.clear();
            int k = in.read(b);
            if (k < 0) {
                throw new IOException("loopback stream closed after " + got + " of " + bytes + " bytes");
            }
            got += k;
        }
        return System.nanoTime();
    }

    /**
     * Ring all-reduce of {@code bytes} (a multiple of 4) per worker over loopback TCP among
     * {@code workers} threads; a warm-up, then {@code repeat} timed runs, each started after a barrier
     * and timed on rank 0 until its result is complete. Right before each run (the ranks idle), W
     * concurrent raw loopback streams carry what one ring link carries in the run ({@code 2(W−1)/W}
     * of the bytes): that run's fair share.
     */
    public static AllReduceResult allReduceOverTcp(int workers, long bytes, int repeat) {
        if (bytes % Float.BYTES != 0 || bytes / Float.BYTES > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("size " + bytes + " bytes is not a whole number of floats below 8 GiB");
        }
        if (workers < 1 || repeat < 1) {
            throw new IllegalArgumentException("workers " + workers + " and repeat " + repeat + " must be positive");
        }
        int n = (int) (bytes / Float.BYTES);
        long linkBytes = Math.max(Float.BYTES, bytes * 2 * (workers - 1) / workers);
        List<String> addresses = loopbackAddresses(workers);
        TcpSettings settings = TcpSettings.of(ClusterSecret.random()).withConnectTimeout(Duration.ofSeconds(30));
        CyclicBarrier start = new CyclicBarrier(workers + 1);
        CyclicBarrier end = new CyclicBarrier(workers + 1);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            for (int r = 0; r < workers; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Collectives c = TcpCollectives.connect(rank, addresses, settings)) {
                        return timedAllReduces(c, n, repeat, start, end);
                    } catch (Exception e) {
                        start.reset(); // the measuring thread and the other ranks stop waiting for this one
                        end.reset();
                        throw e;
                    }
                }));
            }
            double[] fair = new double[repeat];
            try {
                for (int i = 0; i < repeat; i++) {
                    fair[i] = concurrentLoopback(workers, linkBytes, 1) / workers;
                    start.await(10, TimeUnit.MINUTES);
                    end.await(10, TimeUnit.MINUTES);
                }
            } catch (BrokenBarrierException e) {
                for (Future<double[]> f : futures) {
                    f.get(); // a rank's own failure, if that is what broke the barrier
                }
                throw e;
            }
            double[] rank0 = futures.get(0).get();
            for (Future<double[]> f : futures) {
                f.get();
            }
            double[] ratios = new double[repeat];
            for (int i = 0; i < repeat; i++) {
                ratios[i] = bytes / rank0[i] * 2.0 * (workers - 1) / workers / fair[i];
            }
            double t = median(rank0);
            double algbw = bytes / t;
            double busbw = algbw * 2.0 * (workers - 1) / workers;
            return new AllReduceResult(workers, bytes, t, algbw, busbw, median(fair), median(ratios));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new CollectiveException("all-reduce failed", e.getCause());
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new CollectiveException("the all-reduce ranks stopped in step with the measurement: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One rank: a warm-up, then {@code repeat} all-reduces, each between the two barriers; rank-local seconds. */
    private static double[] timedAllReduces(Collectives c, int n, int repeat, CyclicBarrier start, CyclicBarrier end)
            throws Exception {
        float[] data = new float[n];
        Arrays.fill(data, 1e-3f * (c.rank() + 1));
        c.allReduceSum(Arrays.copyOf(data, Math.min(n, 1 << 20))); // warm-up: JIT, socket buffers
        double[] seconds = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            start.await(10, TimeUnit.MINUTES);
            c.barrier();
            long t0 = System.nanoTime();
            c.allReduceSum(data);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            end.await(10, TimeUnit.MINUTES);
        }
        return seconds;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** {@code w} addresses {@code 127.0.0.1:port} of ports free right now (bound, then released), for benches. */
    public static List<String> loopbackAddresses(int w) {
        List<String> out = new ArrayList<>();
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < w; i++) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                out.add("127.0.0.1:" + s.getLocalPort());
            }
        } catch (IOException e) {
            throw new CollectiveException("no free loopback port: " + e.getMessage(), e);
        } finally {
            held.forEach(TcpCollectives::closeQuietly);
        }
        return out;
    }
}
