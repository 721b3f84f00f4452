package dalle.services.common.stage;

import dalle.v1.Stage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The Prometheus metrics of the stages (exported under {@code /q/metrics}):
 * <ul>
 *   <li>{@code dalle_stage_latency_seconds{stage}}: compute time of one unit of work (a batch, a call); with
 *       {@code _bucket}s ({@link #TIME_BUCKETS}) for quantiles</li>
 *   <li>{@code dalle_stage_queue_seconds{stage}}: time from enqueueing to the start of compute (buckets as above)</li>
 *   <li>{@code dalle_stage_queue_depth{stage}}: work waiting in the stage's queue now (calls; the sampler: candidates)</li>
 *   <li>{@code dalle_sampler_batch_size}: candidates per sampler forward loop (buckets {@link #BATCH_BUCKETS})</li>
 *   <li>{@code dalle_sampler_image_tokens_total}: image tokens sampled; its rate is image tokens/s</li>
 *   <li>{@code dalle_sampler_candidates_total}: candidates sampled (computed)</li>
 *   <li>{@code dalle_deadline_dropped_total{stage}}: requests not computed because their deadline passed</li>
 *   <li>{@code dalle_queue_rejected_total{stage}}: requests refused because a queue was full</li>
 *   <li>{@code dalle_dlq_records_total{topic}}: records dead-lettered</li>
 *   <li>{@code dalle_kafka_stage_problems_total{stage,kind}}: what a Kafka stage stepped over: {@code unexpected-record}
 *       (a record its check or computation failed on, dead-lettered), {@code batch} (a batch computed again record by
 *       record), {@code send-retry}, {@code send-refused} (an output refused for good: its request dead-lettered),
 *       {@code commit} (a commit refused by a rebalance or timed out), {@code poll}</li>
 * </ul>
 */
public final class StageMetrics {

    /** Histogram buckets of the stage timers, 5 ms to 5 min. */
    static final Duration[] TIME_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5)};
    /** The kinds of {@link #kafkaProblem}, registered at zero (a rate over a series that does not exist is no 0). */
    static final java.util.List<String> PROBLEM_KINDS = java.util.List.of("unexpected-record", "batch", "send-retry",
            "send-refused", "commit", "poll");
    /** Histogram buckets of the sampler's batch size, 1 to 512 candidates. */
    static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    private final MeterRegistry registry;

    public StageMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the meters of {@code stages} at zero, so a scrape shows them before the first request. */
    public void register(java.util.Collection<Stage> stages) {
        for (Stage stage : stages) {
            timer("dalle.stage.latency", stage);
            timer("dalle.stage.queue", stage);
            Counter.builder("dalle.deadline.dropped").tag("stage", name(stage)).register(registry);
            Counter.builder("dalle.queue.rejected").tag("stage", name(stage)).register(registry);
            for (String kind : PROBLEM_KINDS) {
                Counter.builder("dalle.kafka.stage.problems").tag("stage", name(stage)).tag("kind", kind)
                        .register(registry);
            }
            if (registry.find("dalle.stage.queue.depth").tag("stage", name(stage)).gauge() == null) {
                queueDepth(stage, () -> 0); // until the stage's queue exists
            }
            if (stage == Stage.STAGE_SAMPLER) {
                batchSize();
                Counter.builder("dalle.sampler.image.tokens").register(registry);
                Counter.builder("dalle.sampler.candidates").register(registry);
            }
        }
    }

    private Timer timer(String name, Stage stage) {
        return Timer.builder(name).tag("stage", name(stage)).serviceLevelObjectives(TIME_BUCKETS).register(registry);
    }

    private DistributionSummary batchSize() {
        return DistributionSummary.builder("dalle.sampler.batch.size").serviceLevelObjectives(BATCH_BUCKETS)
                .register(registry);
    }

    /**
     * Exports {@code depth} as {@code dalle_stage_queue_depth{stage}}, replacing the gauge of an earlier queue of the
     * same stage (a stage started again in one registry).
     */
    public void queueDepth(Stage stage, IntSupplier depth) {
        Gauge old = registry.find("dalle.stage.queue.depth").tag("stage", name(stage))
                .gauge();
        if (old != null) {
            registry.remove(old);
        }
        Gauge.builder("dalle.stage.queue.depth", depth::getAsInt)
                .tag("stage", name(stage)).strongReference(true).register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    private static String name(Stage stage) {
        return stage.name().substring("STAGE_".length()).toLowerCase(Locale.ROOT);
    }

    public void latency(Stage stage, Duration d) {
        timer("dalle.stage.latency", stage).record(d);
    }

    public void queueTime(Stage stage, Duration d) {
        timer("dalle.stage.queue", stage).record(d);
    }

    public void batch(int candidates, int imageTokensEach) {
        batchSize().record(candidates);
        Counter.builder("dalle.sampler.image.tokens").register(registry).increment((double) candidates * imageTokensEach);
        Counter.builder("dalle.sampler.candidates").register(registry).increment(candidates);
    }

    /** Candidates the sampler has computed since start. */
    public long sampledCandidates() {
        Counter c = registry.find("dalle.sampler.candidates").counter();
        return c == null ? 0 : (long) c.count();
    }

    public void deadlineDropped(Stage stage) {
        Counter.builder("dalle.deadline.dropped").tag("stage", name(stage)).register(registry).increment();
    }

    /** Requests of {@code stage} dropped for a passed deadline since start. */
    public long deadlineDroppedCount(String stage) {
        Counter c = registry.find("dalle.deadline.dropped").tag("stage", stage).counter();
        return c == null ? 0 : (long) c.count();
    }

    public void rejected(Stage stage) {
        Counter.builder("dalle.queue.rejected").tag("stage", name(stage)).register(registry).increment();
    }

    /** One problem a Kafka stage stepped over, by kind. */
    public void kafkaProblem(String stage, String kind) {
        Counter.builder("dalle.kafka.stage.problems").tag("stage", stage).tag("kind", kind).register(registry).increment();
    }

    /** Problems of {@code kind} a Kafka stage stepped over since start. */
    public long kafkaProblems(String stage, String kind) {
        Counter c = registry.find("dalle.kafka.stage.problems").tag("stage", stage).tag("kind", kind).counter();
        return c == null ? 0 : (long) c.count();
    }

    public void deadLettered(String topic) {
        Counter.builder("dalle.dlq.records").tag("topic", topic).register(registry).increment();
    }

    /** Records dead-lettered from {@code topic} since start. */
    public long deadLetterCount(String topic) {
        Counter c = registry.find("dalle.dlq.records").tag("topic", topic).counter();
        return c == null ? 0 : (long) c.count();
    }
}
