package dalle.services.sampler;

import dalle.core.sampling.ContinuousBatch;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.sampling.ImageSampler;
import dalle.services.common.stage.Deadlines;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.ErrorCode;
import dalle.v1.Stage;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Collects candidates of different requests (gRPC calls and Kafka records alike) into batched sampling, in one of
 * two {@link Batching} modes. {@link Batching#STATIC}: one {@link ImageSampler} loop at a time, which starts when
 * {@code maxBatch} candidates wait or the oldest has waited {@code maxDelay} and runs all Ti image tokens.
 * {@link Batching#CONTINUOUS}: one running {@link ContinuousBatch}; the waiting candidates (up to {@code maxBatch}
 * in the batch) join it as one group, prefilled together, into an empty batch at once and otherwise every
 * Ti / {@value #MAX_GROUPS} token steps, and each group leaves when its grid is complete, so a candidate waits at
 * most Ti / {@value #MAX_GROUPS} steps to start instead of a whole batch. Every candidate draws from its own RNG stream (seed,
 * index), so its codes are the same whatever it shared a batch with (up to the float rounding that batch
 * composition already causes; {@code ContinuousBatchTest}, {@code SamplerBatcherTest}).
 *
 * <p>The queue is bounded in candidates: {@link #submit} refuses a request that does not fit (gRPC answers
 * RESOURCE_EXHAUSTED), {@link #submitWaiting} waits for room (a Kafka stage's back-pressure). A request whose
 * deadline has passed, or that was cancelled, is not computed: it is checked on submission and again when its
 * candidates would join a batch. With continuous batching it is also checked before every step: such a request
 * fails then (DEADLINE_EXCEEDED, or UNAVAILABLE when cancelled), and a group left with no live request leaves the
 * batch, so its rows stop costing the others' steps. A static batch, once started, runs to its end. One daemon
 * thread runs the batches.
 */
public final class SamplerBatcher implements AutoCloseable {

    /** How candidates share forward passes. */
    public enum Batching {
        /** A batch starts when full or after maxDelay and runs all image tokens; later arrivals wait for it. */
        STATIC,
        /** Candidates join the running batch at the next token step and leave when their grid is complete. */
        CONTINUOUS;

        /** {@code static} or {@code continuous}, as the configuration spells it. */
        public static Batching parse(String value) {
            return switch (value) {
                case "static" -> STATIC;
                case "continuous" -> CONTINUOUS;
                default -> throw new IllegalArgumentException("dalle.sampler.batching must be static or continuous, got '"
                        + value + "'");
            };
        }
    }

    /**
     * @param maxBatch most candidates per forward loop (static) or in the running batch (continuous), 1..4096
     * @param maxDelay longest a candidate waits for others before its batch starts, 0..10 s (static only: a
     *     continuous batch takes candidates at the next step)
     * @param queueCapacity most candidates waiting, at least maxBatch
     * @param batching static or continuous
     */
    public record Settings(int maxBatch, Duration maxDelay, int queueCapacity, Batching batching) {
        /** Static batching. */
        public Settings(int maxBatch, Duration maxDelay, int queueCapacity) {
            this(maxBatch, maxDelay, queueCapacity, Batching.STATIC);
        }

        public Settings {
            java.util.Objects.requireNonNull(batching, "batching");
            if (maxBatch < 1 || maxBatch > 4096) {
                throw new IllegalArgumentException("maxBatch " + maxBatch + " is outside 1..4096");
            }
            if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("maxDelay " + maxDelay + " is outside 0..10 s");
            }
            if (queueCapacity < maxBatch) {
                throw new IllegalArgumentException("queueCapacity " + queueCapacity + " is below maxBatch " + maxBatch);
            }
        }
    }

    /** What a request hears about its candidates; called on the batcher thread. */
    public interface Listener {
        /** One candidate finished, in completion order. */
        void sampled(int candidateIndex, int[] codes);

        /** The request failed (deadline, cancellation, a sampling error); no further calls follow. */
        void failed(StageException error);
    }

    /**
     * A submitted request; {@link #cancel()} drops its candidates that have not started, and with continuous batching
     * stops those that are sampling at the next step.
     */
    public static final class Ticket {
        private final Deadline deadline;
        private final Listener listener;
        private final long enqueuedNanos = System.nanoTime();
        private final AtomicBoolean finished = new AtomicBoolean();
        private volatile boolean cancelled;

        Ticket(Deadline deadline, Listener listener) {
            this.deadline = deadline;
            this.listener = listener;
        }

        public void cancel() {
            cancelled = true;
        }

        void fail(StageException e) {
            if (finished.compareAndSet(false, true)) {
                try {
                    listener.failed(e);
                } catch (RuntimeException ignored) {
                    // the listener's own channel is gone (a cancelled call): nobody left to tell
                }
            }
        }
    }

    private record Job(CandidateSpec spec, Ticket ticket) {
    }

    /** How one batch of candidates is sampled: the prior's batched sampler (a test may substitute a failing one). */
    @FunctionalInterface
    interface BatchSampler {
        List<int[]> sample(List<CandidateSpec> specs);
    }

    private final BatchSampler sampler;
    private final Supplier<ContinuousBatch> continuous;
    private final int imageTokens;
    private final Settings settings;
    private final StageMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final Thread thread;
    private final java.util.function.IntConsumer beforeStep;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile boolean closed;

    public SamplerBatcher(ImageSampler sampler, int imageTokens, Settings settings, StageMetrics metrics) {
        this(specs -> sampler.sample(specs, true), sampler::newContinuousBatch, imageTokens, settings, metrics);
    }

    SamplerBatcher(BatchSampler sampler, int imageTokens, Settings settings, StageMetrics metrics) {
        this(sampler, () -> {
            throw new IllegalStateException("this batcher has no continuous sampler");
        }, imageTokens, settings, metrics);
    }

    SamplerBatcher(BatchSampler sampler, Supplier<ContinuousBatch> continuous, int imageTokens, Settings settings,
            StageMetrics metrics) {
        this(sampler, continuous, imageTokens, settings, metrics, rows -> { });
    }

    /** @param beforeStep told the candidates in the running batch before each continuous step (a test's view) */
    SamplerBatcher(BatchSampler sampler, Supplier<ContinuousBatch> continuous, int imageTokens, Settings settings,
            StageMetrics metrics, java.util.function.IntConsumer beforeStep) {
        this.beforeStep = beforeStep;
        this.sampler = sampler;
        this.continuous = continuous;
        this.imageTokens = imageTokens;
        this.settings = settings;
        this.metrics = metrics;
        this.thread = new Thread(this::run, "sampler-batcher");
        thread.setDaemon(true);
        thread.start();
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Queues a request's candidates, or refuses it at once.
     *
     * @throws StageException RESOURCE_EXHAUSTED when they do not fit the queue, DEADLINE_EXCEEDED when the
     *     deadline already passed
     */
    public Ticket submit(List<CandidateSpec> specs, Deadline deadline, Listener listener) {
        return enqueue(specs, deadline, listener, false);
    }

    /** As {@link #submit}, but waits for room in the queue (until the deadline, if any). */
    public Ticket submitWaiting(List<CandidateSpec> specs, Deadline deadline, Listener listener)
            throws InterruptedException {
        try {
            return enqueue(specs, deadline, listener, true);
        } catch (WaitInterrupted e) {
            throw (InterruptedException) e.getCause();
        }
    }

    private static final class WaitInterrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        WaitInterrupted(InterruptedException cause) {
            super(cause);
        }
    }

    private Ticket enqueue(List<CandidateSpec> specs, Deadline deadline, Listener listener, boolean wait) {
        if (specs.isEmpty()) {
            throw new FieldException("candidates", "no candidates to sample");
        }
        if (Deadlines.expired(deadline)) {
            metrics.deadlineDropped(Stage.STAGE_SAMPLER);
            throw StageException.deadline("before the sampler queued the request");
        }
        if (specs.size() > settings.queueCapacity()) {
            metrics.rejected(Stage.STAGE_SAMPLER);
            throw StageException.overloaded("sampler (" + specs.size() + " candidates never fit)",
                    settings.queueCapacity());
        }
        Ticket ticket = new Ticket(deadline, listener);
        lock.lock();
        try {
            while (queue.size() + specs.size() > settings.queueCapacity()) {
                if (!wait || !running) {
                    metrics.rejected(Stage.STAGE_SAMPLER);
                    throw StageException.overloaded("sampler", settings.queueCapacity());
                }
                if (Deadlines.expired(deadline)) {
                    metrics.deadlineDropped(Stage.STAGE_SAMPLER);
                    throw StageException.deadline("while waiting for room in the sampler queue");
                }
                try {
                    changed.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new WaitInterrupted(e);
                }
            }
            for (CandidateSpec s : specs) {
                queue.add(new Job(s, ticket));
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return ticket;
    }

    /** Candidates waiting now. */
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        if (settings.batching() == Batching.CONTINUOUS) {
            runContinuous();
            return;
        }
        while (running) {
            List<Job> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            if (!batch.isEmpty()) {
                try {
                    runBatch(batch);
                } catch (RuntimeException | Error e) {
                    // one batch never stops the thread (short of the JVM itself failing): its requests fail instead
                    for (Job j : batch) {
                        j.ticket().fail(new StageException(ErrorCode.ERROR_CODE_INTERNAL, "sampler batch failed: " + e,
                                e));
                    }
                    if (e instanceof VirtualMachineError v && !(e instanceof StackOverflowError)) {
                        failure = v;
                        failQueued("the sampler stopped: " + v);
                        throw v;
                    }
                }
            }
        }
    }

    /** Waits for work, then for a full batch or the oldest job's delay; drops dead jobs. */
    private List<Job> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (!running) {
                    return List.of();
                }
                changed.await();
            }
            long startBy = queue.peekFirst().ticket().enqueuedNanos + settings.maxDelay().toNanos();
            while (queue.size() < settings.maxBatch() && running) {
                long left = startBy - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            List<Job> batch = new ArrayList<>();
            while (!queue.isEmpty() && batch.size() < settings.maxBatch()) {
                Job job = queue.pollFirst();
                if (alive(job, false)) {
                    batch.add(job);
                }
            }
            changed.signalAll();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void runBatch(List<Job> batch) {
        long start = System.nanoTime();
        for (Job j : batch) {
            metrics.queueTime(Stage.STAGE_SAMPLER, Duration.ofNanos(start - j.ticket().enqueuedNanos));
        }
        List<int[]> codes = sampleBatch(batch.stream().map(Job::spec).toList());
        metrics.latency(Stage.STAGE_SAMPLER, Duration.ofNanos(System.nanoTime() - start));
        metrics.batch(batch.size(), imageTokens);
        deliver(batch, codes);
    }

    /** A group of jobs in the running batch, and when it joined. */
    private record Joined(List<Job> jobs, long startNanos) {
    }

    /** Continuous batching: about the most groups (each its own attention calls) that share a step. */
    static final int MAX_GROUPS = 8;

    /**
     * The continuous loop: before a step the waiting candidates join as one group (up to maxBatch in the batch; into
     * an empty batch at once, else at most every Ti / {@link #MAX_GROUPS} steps), then one step draws a token of
     * every candidate; groups whose grid is complete are delivered.
     */
    private void runContinuous() {
        // a new group at most every Ti / MAX_GROUPS steps: at most about MAX_GROUPS groups share a step, since every
        // group's attention is its own native calls (many one-candidate groups made steps dispatch-bound)
        int joinEvery = Math.max(1, imageTokens / MAX_GROUPS);
        int stepsSinceJoin = 0;
        Map<ContinuousBatch.Group, Joined> owners = new HashMap<>();
        ContinuousBatch batch = null;
        try {
            while (running) {
                int inBatch = batch == null ? 0 : batch.candidates();
                boolean mayJoin = inBatch == 0 || stepsSinceJoin >= joinEvery;
                List<Job> joining;
                try {
                    joining = nextJoiners(inBatch == 0, mayJoin ? settings.maxBatch() - inBatch : 0);
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    if (batch == null) {
                        batch = continuous.get();
                    }
                    if (!joining.isEmpty()) {
                        long start = System.nanoTime();
                        for (Job j : joining) {
                            metrics.queueTime(Stage.STAGE_SAMPLER, Duration.ofNanos(start - j.ticket().enqueuedNanos));
                        }
                        stepsSinceJoin = 0;
                        Joined joined = new Joined(joining, start);
                        ContinuousBatch.Group g = batch.join(joined.jobs().stream().map(Job::spec).toList());
                        joining = List.of();    // from here on the group's jobs are failed through owners
                        if (g.done()) {
                            deliver(joined, g.codes());
                        } else {
                            owners.put(g, joined);
                        }
                    }
                    leaveAbandoned(batch, owners);
                    if (batch.candidates() > 0) {
                        beforeStep.accept(batch.candidates());
                        stepsSinceJoin++;
                        for (ContinuousBatch.Group g : batch.step()) {
                            deliver(owners.remove(g), g.codes());
                        }
                    }
                } catch (RuntimeException | Error e) {
                    // a failed step fails every request in the batch; the next candidates start a new batch
                    StageException error = new StageException(ErrorCode.ERROR_CODE_INTERNAL,
                            "sampler batch failed: " + e, e);
                    for (Job j : joining) {
                        j.ticket().fail(error);
                    }
                    for (Joined joined : owners.values()) {
                        for (Job j : joined.jobs()) {
                            j.ticket().fail(error);
                        }
                    }
                    owners.clear();
                    if (batch != null) {
                        batch.close();
                        batch = null;
                    }
                    if (e instanceof VirtualMachineError v && !(e instanceof StackOverflowError)) {
                        failure = v;
                        failQueued("the sampler stopped: " + v);
                        throw v;
                    }
                }
            }
        } finally {
            for (Joined joined : owners.values()) {
                for (Job j : joined.jobs()) {
                    j.ticket().fail(new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "sampler is shutting down"));
                }
            }
            if (batch != null) {
                batch.close();
            }
        }
    }

    /**
     * Fails the requests in the running batch that were cancelled or whose deadline passed while they sampled, and
     * takes every group left with no live request out of the batch, so that its rows stop costing each step (a group
     * that shares its rows with a live request keeps drawing; the failed request's codes are not delivered).
     */
    private void leaveAbandoned(ContinuousBatch batch, Map<ContinuousBatch.Group, Joined> owners) {
        for (var it = owners.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            boolean live = false;
            for (Job j : e.getValue().jobs()) {
                live |= alive(j, true);
            }
            if (!live) {
                batch.leave(e.getKey());
                it.remove();
            }
        }
    }

    /**
     * The candidates that join before the next step, at most {@code room} (0: none now), dropping dead jobs; waits
     * for work only when {@code idle} (an empty batch), else takes what waits now.
     */
    private List<Job> nextJoiners(boolean idle, int room) throws InterruptedException {
        lock.lock();
        try {
            while (idle && queue.isEmpty() && running) {
                changed.await();
            }
            List<Job> out = new ArrayList<>();
            while (!queue.isEmpty() && out.size() < room) {
                Job job = queue.pollFirst();
                if (alive(job, false)) {
                    out.add(job);
                }
            }
            if (!out.isEmpty()) {
                changed.signalAll();
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a job is still wanted, taken from the queue ({@code sampling} false) or in the running batch (true);
     * fails its ticket (once) when not, saying where it was.
     */
    private boolean alive(Job job, boolean sampling) {
        Ticket t = job.ticket();
        if (t.finished.get()) {
            return false;
        }
        if (t.cancelled) {
            t.fail(new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "cancelled by the caller"
                    + (sampling ? " while sampling" : "")));
            return false;
        }
        if (Deadlines.expired(t.deadline)) {
            metrics.deadlineDropped(Stage.STAGE_SAMPLER);
            t.fail(StageException.deadline(sampling ? "while sampling" : "while queued in the sampler"));
            return false;
        }
        return true;
    }

    private void deliver(Joined joined, List<int[]> codes) {
        metrics.latency(Stage.STAGE_SAMPLER, Duration.ofNanos(System.nanoTime() - joined.startNanos()));
        metrics.batch(joined.jobs().size(), imageTokens);
        deliver(joined.jobs(), codes);
    }

    private void deliver(List<Job> jobs, List<int[]> codes) {
        for (int i = 0; i < jobs.size(); i++) {
            Job j = jobs.get(i);
            if (!j.ticket().finished.get()) {
                try {
                    j.ticket().listener.sampled(j.spec().candidateIndex(), codes.get(i));
                } catch (RuntimeException e) {
                    j.ticket().fail(new StageException(ErrorCode.ERROR_CODE_INTERNAL,
                            "delivering a sampled candidate failed: " + e, e));
                }
            }
        }
    }

    private List<int[]> sampleBatch(List<CandidateSpec> specs) {
        return sampler.sample(specs);
    }

    /** Why the batcher thread stopped (a virtual-machine error); null while it runs. */
    public Throwable failure() {
        return failure;
    }

    /** Whether the batcher thread runs (or was closed): false after it died. */
    public boolean alive() {
        return failure == null && (thread.isAlive() || closed);
    }

    private void failQueued(String why) {
        lock.lock();
        try {
            for (Job j : queue) {
                j.ticket().fail(new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, why));
            }
            queue.clear();
            running = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops the thread; queued requests fail with UNAVAILABLE. */
    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            running = false;
            for (Job j : queue) {
                j.ticket().fail(new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "sampler is shutting down"));
            }
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        thread.interrupt();
    }
}
