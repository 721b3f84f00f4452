package dalle.services.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.ProtoSerde;
import dalle.services.common.TestBroker;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.GenerationRequest;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * A Kafka stage carries each record's W3C trace context to everything the record causes — its outputs (even when
 * another thread emits them, as the sampler's batcher does), its FAILED events, its dead letter — and writes none
 * when tracing is off. Real broker; the OpenTelemetry here only propagates (no SDK), so each span is the record's own
 * trace passed through, which is what the headers must show.
 */
class KafkaStageTracingTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
    private static final KafkaTracing W3C = new KafkaTracing(OpenTelemetry.propagating(
            ContextPropagators.create(W3CTraceContextPropagator.getInstance())));

    private record Io(TopicSpec<GenerationRequest> in, TopicSpec<GenerationRequest> out) {
    }

    private static Io topics(String name) throws Exception {
        TopicSpec<GenerationRequest> in = new TopicSpec<>(name + "-in", GenerationRequest.class,
                ProtoSerde.of(GenerationRequest.class), 1, Duration.ofDays(1), 1 << 20);
        TopicSpec<GenerationRequest> out = new TopicSpec<>(name + "-out", GenerationRequest.class,
                ProtoSerde.of(GenerationRequest.class), 1, Duration.ofDays(1), 1 << 20);
        TestBroker.withTopics();
        try (Admin admin = TestBroker.admin()) {
            admin.createTopics(List.of(new NewTopic(in.name(), 1, (short) 1),
                    new NewTopic(Topics.deadLetterTopic(in.name()), 1, (short) 1),
                    new NewTopic(out.name(), 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return new Io(in, out);
    }

    /** Echoes valid requests from another thread; a caption "invalid" is a FieldException (dead letter). */
    private static final class OffThread implements StageHandler<GenerationRequest, GenerationRequest> {
        private final Io io;
        private final ExecutorService emitter = Executors.newSingleThreadExecutor();

        OffThread(Io io) {
            this.io = io;
        }

        @Override
        public Stage stage() {
            return Stage.STAGE_SAMPLER;
        }

        @Override
        public TopicSpec<GenerationRequest> input() {
            return io.in();
        }

        @Override
        public GenerationRequest prepare(GenerationRequest record, long timestampMs) {
            if (record.getCaption().equals("invalid")) {
                throw new FieldException("caption", "is 'invalid'");
            }
            return record;
        }

        @Override
        public String requestId(GenerationRequest prepared) {
            return prepared.getRequestId();
        }

        @Override
        public void process(List<GenerationRequest> records, Emitter out) throws InterruptedException {
            try {
                emitter.submit(() -> records.forEach(r -> out.send(io.out(), r.getRequestId(), r))).get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    private static void send(Io io, String id, String caption, String traceparent) {
        RecordHeaders headers = new RecordHeaders();
        if (traceparent != null) {
            headers.add(KafkaTracing.TRACEPARENT, traceparent.getBytes(StandardCharsets.UTF_8));
        }
        TestBroker.sendAll(List.of(new ProducerRecord<>(io.in().name(), null, id.getBytes(StandardCharsets.UTF_8),
                GenerationRequest.newBuilder().setRequestId(id).setCaption(caption).build().toByteArray(), headers)));
    }

    private static String traceparent(ConsumerRecord<byte[], byte[]> r) {
        return CloudEvents.header(r.headers(), KafkaTracing.TRACEPARENT);
    }

    private static ConsumerRecord<byte[], byte[]> one(String topic, String key) {
        return TestBroker.await(topic, 1, r -> new String(r.key(), StandardCharsets.UTF_8).equals(key)).get(0);
    }

    @Test
    void outputsEventsAndDeadLettersCarryTheTraceOfTheRecordThatCausedThem() throws Exception {
        Io io = topics("ks-trace");
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(new OffThread(io),
                new StageMetrics(new SimpleMeterRegistry()), KafkaStage.Settings.of(TestBroker.bootstrap(), 16,
                Optional.empty()).withTracing(W3C))) {
            send(io, "t-1", "fine", TRACEPARENT);
            send(io, "t-2", "invalid", TRACEPARENT.replace("00f067aa0ba902b7", "00f067aa0ba902b8"));
            send(io, "t-3", "untraced", null);

            assertEquals(TRACEPARENT, traceparent(one(io.out().name(), "t-1")),
                    "the output emitted on another thread carries its record's trace");
            ConsumerRecord<byte[], byte[]> dead = one(Topics.deadLetterTopic(io.in().name()), "t-2");
            assertEquals("00-" + TRACE_ID + "-00f067aa0ba902b8-01", traceparent(dead), "the dead letter keeps it");
            ConsumerRecord<byte[], byte[]> failed = TestBroker.await(Topics.GENERATION_EVENTS.name(), 1,
                    r -> new String(r.key(), StandardCharsets.UTF_8).equals("t-2") && Topics.GENERATION_EVENTS
                            .parse(r.value()).value().getStatus() == StageStatus.STAGE_STATUS_FAILED).get(0);
            assertEquals("00-" + TRACE_ID + "-00f067aa0ba902b8-01", traceparent(failed), "so does its FAILED event");
            ConsumerRecord<byte[], byte[]> untraced = one(io.out().name(), "t-3");
            assertNull(traceparent(untraced), "a record without a trace causes none (no made-up parent)");
            assertNull(stage.failure());
        }
    }

    @Test
    void withTracingOffNoTraceHeaderIsWrittenAndAnIncomingOneIsNotCopiedOntoOutputs() throws Exception {
        Io io = topics("ks-trace-off");
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(new OffThread(io),
                new StageMetrics(new SimpleMeterRegistry()), KafkaStage.Settings.of(TestBroker.bootstrap(), 16,
                Optional.empty()))) {
            send(io, "o-1", "fine", TRACEPARENT);
            ConsumerRecord<byte[], byte[]> out = one(io.out().name(), "o-1");
            assertNull(traceparent(out), "tracing off (the default): outputs carry no traceparent");
            assertNotNull(CloudEvents.header(out.headers(), "ce_id"), "the CloudEvents headers are still there");
            assertTrue(stage.failure() == null);
        }
    }
}
