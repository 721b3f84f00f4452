package dalle.services.common.stage;

import dalle.v1.ErrorCode;
import dalle.v1.Stage;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One stage's bounded queue in front of one compute thread (tokenizer, decoder, reranker; the sampler has its
 * {@link SamplerBatcher}). A full queue refuses work at once (RESOURCE_EXHAUSTED); work whose deadline has
 * passed is refused on submission and skipped when its turn comes (DEADLINE_EXCEEDED), never computed.
 */
public final class WorkQueue implements AutoCloseable {

    private final Stage stage;
    private final int capacity;
    private final StageMetrics metrics;
    private final ThreadPoolExecutor executor;

    /**
     * @param stage the stage whose work this is (names the thread and the metrics)
     * @param capacity most calls waiting, at least 1
     */
    public WorkQueue(Stage stage, int capacity, StageMetrics metrics) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " must be at least 1");
        }
        this.stage = stage;
        this.capacity = capacity;
        this.metrics = metrics;
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(capacity), r -> {
            Thread t = new Thread(r, stage.name().toLowerCase(java.util.Locale.ROOT) + "-worker");
            t.setDaemon(true);
            return t;
        });
        metrics.queueDepth(stage, () -> executor.getQueue().size());
    }

    /**
     * Runs {@code work} on the stage thread.
     *
     * @return its result, or a future failed with {@link StageException} / the work's exception
     * @throws StageException RESOURCE_EXHAUSTED when the queue is full, DEADLINE_EXCEEDED when already late
     */
    public <T> CompletableFuture<T> submit(Deadline deadline, Callable<T> work) {
        if (Deadlines.expired(deadline)) {
            metrics.deadlineDropped(stage);
            throw StageException.deadline("before the " + stage + " queued the call");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        long enqueued = System.nanoTime();
        try {
            executor.execute(() -> {
                long start = System.nanoTime();
                metrics.queueTime(stage, Duration.ofNanos(start - enqueued));
                if (Deadlines.expired(deadline)) {
                    metrics.deadlineDropped(stage);
                    result.completeExceptionally(StageException.deadline("while queued in the " + stage));
                    return;
                }
                try {
                    result.complete(work.call());
                } catch (Exception | Error e) {
                    result.completeExceptionally(e);
                } finally {
                    metrics.latency(stage, Duration.ofNanos(System.nanoTime() - start));
                }
            });
        } catch (RejectedExecutionException e) {
            metrics.rejected(stage);
            if (executor.isShutdown()) {
                throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, stage + " is shutting down");
            }
            throw StageException.overloaded(stage.name(), capacity);
        }
        return result;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
