package dalle.services.common.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dalle.v1.Stage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the dashboard of deploy/monitoring reads: queue depth as a gauge, latencies with histogram buckets. */
class StageMetricsTest {

    @Test
    void queueDepthCountsTheWorkWaitingBehindTheRunningCallAndFollowsANewQueueOfTheStage() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StageMetrics metrics = new StageMetrics(registry);
        metrics.register(List.of(Stage.STAGE_DECODER));
        assertEquals(0, depth(registry), "registered at zero before the queue exists");

        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (WorkQueue queue = new WorkQueue(Stage.STAGE_DECODER, 8, metrics)) {
            queue.submit(null, () -> {
                running.countDown();
                return release.await(30, TimeUnit.SECONDS);
            });
            running.await(30, TimeUnit.SECONDS);
            queue.submit(null, () -> 1);
            queue.submit(null, () -> 2);
            assertEquals(2, depth(registry), "two calls wait behind the running one");
            release.countDown();
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (depth(registry) != 0 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertEquals(0, depth(registry), "drained");
        }
        try (WorkQueue again = new WorkQueue(Stage.STAGE_DECODER, 8, metrics)) {
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            again.submit(null, () -> {
                started.countDown();
                return hold.await(30, TimeUnit.SECONDS);
            });
            started.await(30, TimeUnit.SECONDS);
            again.submit(null, () -> 3);
            assertEquals(1, depth(registry), "the gauge reads the stage's new queue, not the closed one");
            assertEquals(1, registry.find("dalle.stage.queue.depth").gauges().size(), "one gauge per stage");
            hold.countDown();
        }
    }

    @Test
    void stageTimersAndTheBatchSizeHaveTheirHistogramBuckets() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StageMetrics metrics = new StageMetrics(registry);
        metrics.register(List.of(Stage.STAGE_SAMPLER));
        metrics.latency(Stage.STAGE_SAMPLER, Duration.ofMillis(30));
        Timer latency = registry.find("dalle.stage.latency").tag("stage", "sampler").timer();
        assertNotNull(latency);
        var counts = latency.takeSnapshot().histogramCounts();
        assertEquals(StageMetrics.TIME_BUCKETS.length, counts.length);
        assertEquals(0, counts[2].count(), "30 ms is not within 25 ms");
        assertEquals(1, counts[3].count(), "30 ms is within 50 ms");
        metrics.batch(48, 16);
        assertEquals(StageMetrics.BATCH_BUCKETS.length, registry.find("dalle.sampler.batch.size").summary()
                .takeSnapshot().histogramCounts().length);
        assertEquals(StageMetrics.PROBLEM_KINDS.size(), registry.find("dalle.kafka.stage.problems").counters().size(),
                "every kind of Kafka stage problem exported at zero");
    }

    private static double depth(SimpleMeterRegistry registry) {
        Gauge g = registry.find("dalle.stage.queue.depth").tag("stage", "decoder").gauge();
        assertNotNull(g, "no dalle_stage_queue_depth{stage=decoder}");
        return g.value();
    }
}
