package dalle.training.cluster.powersgd;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An in-memory all-reduce among {@code workers} threads of one process, for tests and simulated
 * data parallelism: worker r calls {@code reducer(r).allReduceMean(buffer)} from its own thread.
 * The sum runs in rank order in one thread, so every worker gets bit-identical results and a run is
 * deterministic. {@link #exchange} runs one exchange per worker on this group's own threads, which is
 * how a single process simulates W data-parallel workers.
 */
public final class LocalMeanReducers implements AutoCloseable {

    private final int workers;
    private final float[][] slots;
    private final CyclicBarrier arrived;
    private final CyclicBarrier readBack;
    private final ExecutorService pool;

    public LocalMeanReducers(int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers " + workers + " must be at least 1");
        }
        this.workers = workers;
        this.slots = new float[workers][];
        this.arrived = new CyclicBarrier(workers, this::reduce);
        this.readBack = new CyclicBarrier(workers);
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "simulated-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code exchanges.get(w).exchange(gradients.get(w), reducer(w))} for every worker w, each on
     * its own thread, and waits for all of them.
     *
     * @return each worker's stats, by rank
     * @throws IllegalStateException when a worker failed (its cause attached)
     */
    public List<ExchangeStats> exchange(List<? extends GradientAveraging> exchanges, List<List<float[]>> gradients) {
        if (exchanges.size() != workers || gradients.size() != workers) {
            throw new IllegalArgumentException(exchanges.size() + " exchanges and " + gradients.size()
                    + " gradient lists for " + workers + " workers");
        }
        List<Future<ExchangeStats>> futures = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int rank = w;
            futures.add(pool.submit(() -> {
                try {
                    return exchanges.get(rank).exchange(gradients.get(rank), reducer(rank));
                } catch (RuntimeException e) {
                    arrived.reset();    // wake the others waiting in an all-reduce: they fail too
                    readBack.reset();
                    throw e;
                }
            }));
        }
        List<ExchangeStats> out = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            try {
                out.add(futures.get(w).get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for worker " + w, e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("worker " + w + " failed in its exchange", e.getCause());
            }
        }
        return out;
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        pool.shutdownNow();
    }

    public int workers() {
        return workers;
    }

    /** The reducer of worker {@code rank}, to be called from that worker's thread only. */
    public MeanReducer reducer(int rank) {
        if (rank < 0 || rank >= workers) {
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + workers + ")");
        }
        return data -> {
            slots[rank] = data;
            await(arrived);     // the last arrival computes the mean into slot 0's buffer ...
            if (rank != 0) {
                System.arraycopy(slots[0], 0, data, 0, data.length);
            }
            await(readBack);    // ... which nobody may overwrite before everyone has copied it
        };
    }

    /** All workers' reducers, by rank. */
    public List<MeanReducer> reducers() {
        List<MeanReducer> out = new ArrayList<>();
        for (int r = 0; r < workers; r++) {
            out.add(reducer(r));
        }
        return out;
    }

    private void reduce() {
        float[] first = slots[0];
        for (int r = 1; r < workers; r++) {
            if (slots[r].length != first.length) {
                throw new IllegalStateException("worker " + r + " sent " + slots[r].length + " values, worker 0 "
                        + first.length);
            }
        }
        double[] sum = new double[first.length];
        for (float[] s : slots) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += s[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            first[i] = (float) (sum[i] / workers);
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted in an all-reduce", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("another worker failed during the all-reduce", e);
        }
    }
}
