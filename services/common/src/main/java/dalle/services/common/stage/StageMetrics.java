package dalle.services.common.stage;

import dalle.v1.Stage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;

/**
 * The Prometheus metrics of the stages (exported under {@code /q/metrics}):
 * <ul>
 *   <li>{@code dalle_stage_latency_seconds{stage}}: compute time of one unit of work (a batch, a call)</li>
 *   <li>{@code dalle_stage_queue_seconds{stage}}: time from enqueueing to the start of compute</li>
 *   <li>{@code dalle_sampler_batch_size}: candidates per sampler forward loop</li>
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

    private final MeterRegistry registry;

    public StageMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the meters of {@code stages} at zero, so a scrape shows them before the first request. */
    public void register(java.util.Collection<Stage> stages) {
        for (Stage stage : stages) {
            Timer.builder("dalle.stage.latency").tag("stage", name(stage)).register(registry);
            Timer.builder("dalle.stage.queue").tag("stage", name(stage)).register(registry);
            Counter.builder("dalle.deadline.dropped").tag("stage", name(stage)).register(registry);
            Counter.builder("dalle.queue.rejected").tag("stage", name(stage)).register(registry);
            if (stage == Stage.STAGE_SAMPLER) {
                DistributionSummary.builder("dalle.sampler.batch.size").register(registry);
                Counter.builder("dalle.sampler.image.tokens").register(registry);
                Counter.builder("dalle.sampler.candidates").register(registry);
            }
        }
    }

    public MeterRegistry registry() {
        return registry;
    }

    private static String name(Stage stage) {
        return stage.name().substring("STAGE_".length()).toLowerCase(Locale.ROOT);
    }

    public void latency(Stage stage, Duration d) {
        Timer.builder("dalle.stage.latency").tag("stage", name(stage)).register(registry).record(d);
    }

    public void queueTime(Stage stage, Duration d) {
        Timer.builder("dalle.stage.queue").tag("stage", name(stage)).register(registry).record(d);
    }

    public void batch(int candidates, int imageTokensEach) {
        DistributionSummary.builder("dalle.sampler.batch.size").register(registry).record(candidates);
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
