package dalle.training.cluster.comm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Collectives among threads of one JVM: the ring schedule of {@link RingCollectives} over in-memory
 * queues (each message is a copy of the chunk). For tests and single-machine runs; results equal
 * {@link TcpCollectives}' bit for bit.
 *
 * <pre>{@code
 * List<float[]> sums = InProcessCollectives.runOnThreads(4, c -> { float[] g = grads(c.rank()); c.allReduceSum(g); return g; });
 * }</pre>
 */
public final class InProcessCollectives extends RingCollectives {

    /** Default wait for a message before reporting the silent peer. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** The mailboxes of every group of one world, created by whichever member asks first. */
    private static final class Fabric {
        final Map<String, List<BlockingQueue<float[]>>> inboxes = new ConcurrentHashMap<>();
        final long timeoutNanos;

        Fabric(Duration timeout) {
            this.timeoutNanos = timeout.toNanos();
        }

        List<BlockingQueue<float[]>> group(String id, int size) {
            return inboxes.computeIfAbsent(id, k -> {
                List<BlockingQueue<float[]>> boxes = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    boxes.add(new LinkedBlockingQueue<>());
                }
                return boxes;
            });
        }
    }

    private final Fabric fabric;
    private final QueueLink link;

    private InProcessCollectives(Fabric fabric, String id, int[] worldRanks, int rank) {
        super(id, worldRanks, rank);
        this.fabric = fabric;
        this.link = new QueueLink(fabric.group(id, worldRanks.length));
    }

    /** One handle per rank of a new world of {@code size} workers; hand handle i to thread i. */
    public static List<Collectives> world(int size) {
        return world(size, DEFAULT_TIMEOUT);
    }

    /** As {@link #world(int)}, reporting a peer that sends nothing within {@code timeout}. */
    public static List<Collectives> world(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("world size " + size + " must be positive");
        }
        Fabric fabric = new Fabric(timeout);
        int[] ranks = new int[size];
        Arrays.setAll(ranks, i -> i);
        List<Collectives> handles = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            handles.add(new InProcessCollectives(fabric, "world", ranks, r));
        }
        return handles;
    }

    /**
     * Runs {@code body} on {@code size} threads, thread i with rank i of a new world, and returns
     * the results by rank. The first failure cancels the other ranks and is rethrown (unchecked).
     */
    public static <T> List<T> runOnThreads(int size, Function<Collectives, T> body) {
        List<Collectives> world = world(size);
        ExecutorService pool = Executors.newFixedThreadPool(size, r -> {
            Thread t = new Thread(r, "collectives-rank");
            t.setDaemon(true);
            return t;
        });
        try {
            CompletionService<T> done = new ExecutorCompletionService<>(pool);
            List<Future<T>> futures = new ArrayList<>();
            for (Collectives c : world) {
                futures.add(done.submit(() -> body.apply(c)));
            }
            for (int i = 0; i < size; i++) {
                Future<T> f = done.take();
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(g -> g.cancel(true));
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
            List<T> results = new ArrayList<>(size);
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the ranks", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause()); // unreachable: every future succeeded above
        } finally {
            pool.shutdownNow();
            world.forEach(Collectives::close);
        }
    }

    @Override
    RingLink link() {
        return link;
    }

    @Override
    RingCollectives subgroup(String id, int[] worldRanks, int rank) {
        return new InProcessCollectives(fabric, id, worldRanks, rank);
    }

    @Override
    public void close() {
        // nothing to release: the queues are garbage once every member drops its handle
    }

    /** Sends put a copy in the successor's inbox; receives take from this member's own inbox. */
    private final class QueueLink implements RingLink {
        private final List<BlockingQueue<float[]>> boxes;

        QueueLink(List<BlockingQueue<float[]>> boxes) {
            this.boxes = boxes;
        }

        @Override
        public void exchange(float[] send, int sendOff, int sendLen, float[] recv, int recvOff, int recvLen,
                             boolean accumulate) {
            send(send, sendOff, sendLen); // never blocks: inboxes are unbounded
            float[] in = take(recvLen);
            if (accumulate) {
                for (int i = 0; i < recvLen; i++) {
                    recv[recvOff + i] = in[i] + recv[recvOff + i];
                }
            } else {
                System.arraycopy(in, 0, recv, recvOff, recvLen);
            }
        }

        @Override
        public void send(float[] data, int off, int len) {
            boxes.get((rank() + 1) % worldSize()).add(Arrays.copyOfRange(data, off, off + len));
        }

        @Override
        public void receive(float[] data, int off, int len) {
            System.arraycopy(take(len), 0, data, off, len);
        }

        private float[] take(int expected) {
            int prev = Math.floorMod(rank() - 1, worldSize());
            String who = "rank " + rank() + " of group '" + groupId() + "'";
            try {
                float[] in = boxes.get(rank()).poll(fabric.timeoutNanos, TimeUnit.NANOSECONDS);
                if (in == null) {
                    throw new CollectiveException(who + ": nothing from rank " + prev + " within "
                            + Duration.ofNanos(fabric.timeoutNanos).toMillis() + " ms");
                }
                if (in.length != expected) {
                    throw new CollectiveException(who + ": expected " + expected + " floats from rank " + prev
                            + ", got " + in.length + " (do the ranks call the same collectives in the same order?)");
                }
                return in;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException(who + ": interrupted while waiting for rank " + prev, e);
            }
        }

        @Override
        public void close() {}
    }
}
