package dalle.services.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Pipeline;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.TestBundleParts;
import dalle.services.common.stage.StageException;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.ErrorCode;
import io.grpc.Deadline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SamplerBatcherTest {

    /** The whole test bundle, for tokens and the in-process reference. */
    private static final Pipeline WHOLE = new Pipeline(ModelBundle.load(TestBundleParts.whole()));
    /** The sampler's own part, as the service loads it. */
    private static final SamplerModel MODEL = SamplerModel.load(TestBundleParts.only(BundlePart.PRIOR));

    private static List<CandidateSpec> specs(String caption, long seed, int count, SamplingParams params) {
        int[] text = WHOLE.tokenize(caption);
        List<CandidateSpec> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new CandidateSpec(text, seed, i, params));
        }
        return out;
    }

    /** Collects one request's candidates by index. */
    private static final class Collect implements SamplerBatcher.Listener {
        final Map<Integer, int[]> codes = new ConcurrentHashMap<>();
        final CompletableFuture<Map<Integer, int[]>> done = new CompletableFuture<>();
        final int expected;

        Collect(int expected) {
            this.expected = expected;
        }

        @Override
        public void sampled(int candidateIndex, int[] c) {
            codes.put(candidateIndex, c);
            if (codes.size() == expected) {
                done.complete(codes);
            }
        }

        @Override
        public void failed(StageException error) {
            done.completeExceptionally(error);
        }
    }

    private static SamplerBatcher batcher(int maxBatch, Duration delay, int capacity, StageMetrics metrics) {
        return new SamplerBatcher(MODEL.sampler(), 16, new SamplerBatcher.Settings(maxBatch, delay, capacity), metrics);
    }

    @Test
    void candidatesAreIdenticalWhateverRequestsTheyWereBatchedWith() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        List<CandidateSpec> x = specs("a red circle", 7L, 3, SamplingParams.DEFAULT);
        List<CandidateSpec> y = specs("a blue square on the left", 9L, 5, new SamplingParams(0.8f, 10, 0.9f, 1f));
        Map<Integer, int[]> alone;
        try (SamplerBatcher one = batcher(1, Duration.ZERO, 8, metrics)) {
            Collect c = new Collect(3);
            one.submit(x, null, c);
            alone = c.done.get(60, TimeUnit.SECONDS);
        }
        Map<Integer, int[]> mixed;
        try (SamplerBatcher many = batcher(16, Duration.ofMillis(200), 64, metrics)) {
            Collect other = new Collect(5);
            Collect c = new Collect(3);
            many.submit(y.subList(0, 2), null, other);
            many.submit(x, null, c);
            many.submit(y.subList(2, 5), null, other);
            mixed = c.done.get(60, TimeUnit.SECONDS);
            other.done.get(60, TimeUnit.SECONDS);
        }
        List<int[]> inProcess = WHOLE.sample(WHOLE.tokenize("a red circle"), 3, 0, 7L,
                SamplingParams.DEFAULT, Pipeline.Progress.NONE);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(alone.get(i), mixed.get(i), "candidate " + i + " alone vs. batched with others");
            assertArrayEquals(inProcess.get(i), mixed.get(i), "candidate " + i + " batcher vs. in-process Pipeline");
        }
        // the mixed batcher ran all 8 candidates of both requests in one forward loop
        var sizes = metrics.registry().find("dalle.sampler.batch.size").summary();
        assertEquals(8.0, sizes.max());
    }

    @Test
    void continuousBatchingDrawsTheCodesOfEachRequestAloneWhileOthersJoinAndLeave() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        List<CandidateSpec> x = specs("a red circle", 7L, 3, SamplingParams.DEFAULT);
        List<CandidateSpec> y = specs("a blue square on the left", 9L, 5, new SamplingParams(0.8f, 10, 0.9f, 1f));
        List<CandidateSpec> z = specs("a green triangle", 3L, 4, new SamplingParams(1f, 0, 1f, 2f));
        // maxBatch 6: y (5) and one of x join first, the rest of x and z join as y's group leaves
        try (SamplerBatcher b = new SamplerBatcher(MODEL.sampler(), 16,
                new SamplerBatcher.Settings(6, Duration.ZERO, 64, SamplerBatcher.Batching.CONTINUOUS), metrics)) {
            Collect cy = new Collect(5);
            Collect cx = new Collect(3);
            Collect cz = new Collect(4);
            b.submit(y, null, cy);
            b.submit(x, null, cx);
            b.submit(z, null, cz);
            Map<Integer, int[]> gotX = cx.done.get(60, TimeUnit.SECONDS);
            Map<Integer, int[]> gotY = cy.done.get(60, TimeUnit.SECONDS);
            Map<Integer, int[]> gotZ = cz.done.get(60, TimeUnit.SECONDS);
            assertSameAsInProcess("a red circle", 7L, SamplingParams.DEFAULT, gotX);
            assertSameAsInProcess("a blue square on the left", 9L, new SamplingParams(0.8f, 10, 0.9f, 1f), gotY);
            assertSameAsInProcess("a green triangle", 3L, new SamplingParams(1f, 0, 1f, 2f), gotZ);
            var sizes = metrics.registry().find("dalle.sampler.batch.size").summary();
            assertTrue(sizes.count() >= 2, "the 12 candidates joined in more than one group");
            assertTrue(sizes.max() <= 6, "no group is larger than maxBatch");
            assertEquals(12, metrics.sampledCandidates());
        }
    }

    /**
     * Submits two candidates of "a red circle" (seed 1), which must fail INTERNAL naming {@code reason}, then two of
     * "a blue square" (seed 2); the batcher must be alive after both. The second request's codes.
     */
    private static Map<Integer, int[]> firstFailsThenTheNextIsServed(SamplerBatcher b, String reason) throws Exception {
        Collect first = new Collect(2);
        b.submit(specs("a red circle", 1L, 2, SamplingParams.DEFAULT), null, first);
        var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> first.done.get(30, TimeUnit.SECONDS));
        assertEquals(ErrorCode.ERROR_CODE_INTERNAL, ((StageException) e.getCause()).code());
        assertTrue(e.getCause().getMessage().contains(reason), e.getCause().getMessage());
        Collect second = new Collect(2);
        b.submit(specs("a blue square", 2L, 2, SamplingParams.DEFAULT), null, second);
        Map<Integer, int[]> next = second.done.get(60, TimeUnit.SECONDS);
        assertTrue(b.alive());
        return next;
    }

    private static void assertSameAsInProcess(String caption, long seed, SamplingParams params, Map<Integer, int[]> got) {
        List<int[]> inProcess = WHOLE.sample(WHOLE.tokenize(caption), got.size(), 0, seed, params, Pipeline.Progress.NONE);
        for (int i = 0; i < got.size(); i++) {
            assertArrayEquals(inProcess.get(i), got.get(i), caption + ": candidate " + i + " continuous vs. in-process Pipeline");
        }
    }

    @Test
    void aRequestThatDoesNotFitTheQueueIsRefusedAsResourceExhausted() {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        try (SamplerBatcher b = batcher(4, Duration.ZERO, 4, metrics)) {
            StageException e = assertThrows(StageException.class,
                    () -> b.submit(specs("a red circle", 1L, 5, SamplingParams.DEFAULT), null, new Collect(5)));
            assertEquals(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED, e.code());
            assertEquals(0, metrics.sampledCandidates());
        }
    }

    @Test
    void aFullQueueRefusesTheNextRequestAndServesTheQueuedOne() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        // A's 10 candidates wait up to 1 s for a full batch of 16, so the queue (16) is still holding them
        try (SamplerBatcher b = batcher(16, Duration.ofSeconds(1), 16, metrics)) {
            Collect a = new Collect(10);
            b.submit(specs("a red circle", 1L, 10, SamplingParams.DEFAULT), null, a);
            StageException e = assertThrows(StageException.class,
                    () -> b.submit(specs("a blue square", 2L, 10, SamplingParams.DEFAULT), null, new Collect(10)));
            assertEquals(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED, e.code());
            assertEquals(10, a.done.get(60, TimeUnit.SECONDS).size());
            assertEquals(10, metrics.sampledCandidates());
        }
    }

    @Test
    void aRequestWhoseDeadlinePassesInTheQueueIsNeverSampled() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        try (SamplerBatcher b = batcher(64, Duration.ofMillis(300), 64, metrics)) {
            Collect c = new Collect(2);
            b.submit(specs("a red circle", 1L, 2, SamplingParams.DEFAULT),
                    Deadline.after(20, TimeUnit.MILLISECONDS), c);
            var e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> c.done.get(30, TimeUnit.SECONDS));
            assertEquals(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, ((StageException) e.getCause()).code());
            assertEquals(0, metrics.sampledCandidates());
            assertTrue(metrics.deadlineDroppedCount("sampler") >= 1);
        }
    }

    @Test
    void anErrorInOneBatchFailsThatBatchsRequestsAndTheNextBatchIsServed() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        SamplerBatcher.BatchSampler failingOnce = specs -> {
            if (calls.getAndIncrement() == 0) {
                throw new AssertionError("an Error short of OOM in the first batch");
            }
            return MODEL.sampler().sample(specs, true);
        };
        try (SamplerBatcher b = new SamplerBatcher(failingOnce, 16, new SamplerBatcher.Settings(4, Duration.ZERO, 16),
                metrics)) {
            Map<Integer, int[]> next = firstFailsThenTheNextIsServed(b, "AssertionError");
            assertEquals(2, next.size(), "the batcher served the next request");
        }
    }

    @Test
    void aContinuousBatchThatFailsFailsItsRequestsAndTheNextRequestStartsANewOne() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Supplier<dalle.core.sampling.ContinuousBatch> failingFirst = () -> {
            if (batches.getAndIncrement() == 0) {
                throw new IllegalStateException("no batch this time");
            }
            return MODEL.sampler().newContinuousBatch();
        };
        try (SamplerBatcher b = new SamplerBatcher(specs -> {
            throw new AssertionError("static sampling in a continuous batcher");
        }, failingFirst, 16, new SamplerBatcher.Settings(4, Duration.ZERO, 16, SamplerBatcher.Batching.CONTINUOUS),
                metrics)) {
            assertSameAsInProcess("a blue square", 2L, SamplingParams.DEFAULT,
                    firstFailsThenTheNextIsServed(b, "no batch this time"));
        }
    }

    @Test
    void aRequestCancelledWhileItSamplesLeavesTheContinuousBatchAtTheNextStep() throws Exception {
        StageException e = abandonedWhileSampling(null, SamplerBatcher.Ticket::cancel);
        assertEquals(ErrorCode.ERROR_CODE_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("cancelled by the caller while sampling"), e.getMessage());
    }

    @Test
    void aRequestWhoseDeadlinePassesWhileItSamplesLeavesTheContinuousBatchAtTheNextStep() throws Exception {
        StageException e = abandonedWhileSampling(Deadline.after(2, TimeUnit.SECONDS), t -> {
            try {
                Thread.sleep(2_100); // the batcher thread waits here, before a step, until the deadline has passed
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, e.code());
        assertTrue(e.getMessage().contains("while sampling"), e.getMessage());
    }

    /**
     * Continuous batching, 16 image tokens, a new group every 2 steps: B (4 candidates, {@code deadline}) joins the
     * empty batch alone, A (4), queued before B's first step, joins two steps later; right before the first step of 8 rows, {@code abandon} is applied to
     * B's ticket. B's group must then leave: every later step has A's 4 rows only, B hears its failure (returned),
     * A gets the codes it gets alone, and only A's candidates count as sampled.
     */
    private static StageException abandonedWhileSampling(Deadline deadline,
            java.util.function.Consumer<SamplerBatcher.Ticket> abandon) throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        List<Integer> rows = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<SamplerBatcher.Ticket> ticketB = new CompletableFuture<>();
        java.util.concurrent.CountDownLatch bJoined = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch bothQueued = new java.util.concurrent.CountDownLatch(1);
        java.util.function.IntConsumer beforeStep = n -> {
            bJoined.countDown();
            try {
                bothQueued.await(30, TimeUnit.SECONDS); // A is queued before B's first step, so it joins on step 2
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            if (n == 8 && !rows.contains(8)) {
                abandon.accept(ticketB.join());
            }
            rows.add(n);
        };
        try (SamplerBatcher b = new SamplerBatcher(specs -> {
            throw new AssertionError("static sampling in a continuous batcher");
        }, MODEL.sampler()::newContinuousBatch, 16, new SamplerBatcher.Settings(8, Duration.ZERO, 64,
                SamplerBatcher.Batching.CONTINUOUS), metrics, beforeStep)) {
            Collect cb = new Collect(4);
            ticketB.complete(b.submit(specs("a blue square on the left", 5L, 4, SamplingParams.DEFAULT), deadline, cb));
            assertTrue(bJoined.await(30, TimeUnit.SECONDS), "B joined the empty batch alone");
            Collect ca = new Collect(4);
            b.submit(specs("a red circle", 7L, 4, SamplingParams.DEFAULT), null, ca);
            bothQueued.countDown();
            assertSameAsInProcess("a red circle", 7L, SamplingParams.DEFAULT, ca.done.get(60, TimeUnit.SECONDS));
            var failed = assertThrows(java.util.concurrent.ExecutionException.class, () -> cb.done.get(1, TimeUnit.SECONDS));
            int first8 = rows.indexOf(8);
            assertTrue(first8 > 0, "A joined B's running batch: " + rows);
            assertEquals(List.of(4), rows.subList(first8 + 1, rows.size()).stream().distinct().toList(),
                    "B's rows left at the step after: " + rows);
            assertTrue(rows.size() - first8 - 1 >= 10, "A still had most of its grid to draw: " + rows);
            assertEquals(4, metrics.sampledCandidates(), "only A's candidates were delivered");
            return (StageException) failed.getCause();
        }
    }

    @Test
    void aVirtualMachineErrorStopsTheBatcherWhichFailsWhatItOwesAndSaysSo() throws Exception {
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        CompletableFuture<Void> release = new CompletableFuture<>();
        SamplerBatcher.BatchSampler oom = specs -> {
            release.join();
            throw new OutOfMemoryError("simulated");
        };
        try (SamplerBatcher b = new SamplerBatcher(oom, 16, new SamplerBatcher.Settings(2, Duration.ZERO, 16),
                metrics)) {
            Collect running = new Collect(2);
            b.submit(specs("a red circle", 1L, 2, SamplingParams.DEFAULT), null, running);
            Thread.sleep(200); // the first batch is in the sampler now
            Collect queued = new Collect(2);
            b.submit(specs("a blue square", 2L, 2, SamplingParams.DEFAULT), null, queued);
            release.complete(null);
            assertThrows(java.util.concurrent.ExecutionException.class, () -> running.done.get(30, TimeUnit.SECONDS));
            var e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> queued.done.get(30, TimeUnit.SECONDS));
            assertEquals(ErrorCode.ERROR_CODE_UNAVAILABLE, ((StageException) e.getCause()).code());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (b.alive() && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertTrue(!b.alive() && b.failure() instanceof OutOfMemoryError, "the batcher says it stopped");
        }
    }
}
