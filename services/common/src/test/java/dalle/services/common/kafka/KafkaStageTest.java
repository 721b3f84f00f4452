package dalle.services.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.DeadLetters;
import dalle.services.common.ProtoSerde;
import dalle.services.common.TestBroker;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationRequest;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A Kafka stage against a real broker never dies on a record, nor on a rebalance, nor on an output the broker will
 * never take: the one record is dead-lettered with the reason (or its poll retried) and the partition moves on.
 * Each test uses its own topics and its own stage (so its own consumer group, {@code dalle-<stage>}).
 */
class KafkaStageTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Input topic + its dead letters + an output topic whose records may be at most {@code outMaxBytes}. */
    private record Topics3(TopicSpec<GenerationRequest> in, TopicSpec<GenerationRequest> out) {
    }

    private static Topics3 topics(String name, int outMaxBytes) throws Exception {
        TopicSpec<GenerationRequest> in = new TopicSpec<>(name + "-in", GenerationRequest.class,
                ProtoSerde.of(GenerationRequest.class), 1, Duration.ofDays(1), 1 << 20);
        TopicSpec<GenerationRequest> out = new TopicSpec<>(name + "-out", GenerationRequest.class,
                ProtoSerde.of(GenerationRequest.class), 1, Duration.ofDays(1), outMaxBytes);
        TestBroker.withTopics();
        try (Admin admin = TestBroker.admin()) {
            admin.createTopics(List.of(new NewTopic(in.name(), 1, (short) 1),
                    new NewTopic(Topics.deadLetterTopic(in.name()), 1, (short) 1),
                    new NewTopic(out.name(), 1, (short) 1).configs(Map.of("max.message.bytes",
                            Integer.toString(outMaxBytes))))).all().get(30, TimeUnit.SECONDS);
        }
        return new Topics3(in, out);
    }

    /** Copies each request to the output topic; what it does with a caption is up to the test. */
    private abstract static class Echo implements StageHandler<GenerationRequest, GenerationRequest> {
        private final Stage stage;
        private final Topics3 topics;

        Echo(Stage stage, Topics3 topics) {
            this.stage = stage;
            this.topics = topics;
        }

        @Override
        public Stage stage() {
            return stage;
        }

        @Override
        public TopicSpec<GenerationRequest> input() {
            return topics.in();
        }

        @Override
        public GenerationRequest prepare(GenerationRequest record, long timestampMs) {
            return record;
        }

        @Override
        public String requestId(GenerationRequest prepared) {
            return prepared.getRequestId();
        }

        @Override
        public void process(List<GenerationRequest> records, Emitter out) throws InterruptedException {
            for (GenerationRequest r : records) {
                out.send(topics.out(), r.getRequestId(), r);
            }
        }
    }

    private static void send(Topics3 t, String id, String caption) {
        TestBroker.send(t.in().name(), id, GenerationRequest.newBuilder().setRequestId(id).setCaption(caption).build()
                .toByteArray());
    }

    private static List<String> ids(String topic, int count) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TestBroker.await(topic, count, r -> true)) {
            out.add(new String(r.key(), StandardCharsets.UTF_8));
            if (!topic.endsWith("-dlq")) {
                CloudEventsTest.assertCloudEvent(r.headers(), "dalle.v1.GenerationRequest");
            }
        }
        return out;
    }

    private static List<GenerationEvent> failedEvents(String requestId) {
        List<GenerationEvent> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TestBroker.read(Topics.GENERATION_EVENTS.name(),
                java.util.Set.of(requestId), null, Duration.ofSeconds(5))) {
            GenerationEvent e = Topics.GENERATION_EVENTS.parse(r.value()).value();
            CloudEventsTest.assertCloudEvent(r.headers(), "dalle.v1.GenerationEvent");
            if (e.getStatus() == StageStatus.STAGE_STATUS_FAILED) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void anUnexpectedExceptionOnOneRecordDeadLettersThatRecordAndTheStageGoesOn() throws Exception {
        Topics3 t = topics("ks-unexpected", 1 << 20);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        Echo handler = new Echo(Stage.STAGE_TOKENIZER, t) {
            @Override
            public GenerationRequest prepare(GenerationRequest record, long timestampMs) {
                if (record.getCaption().equals("poison")) {
                    throw new IllegalStateException("the check fell over");
                }
                if (record.getCaption().equals("poison-error")) {
                    throw new AssertionError("an Error short of OOM");
                }
                return record;
            }
        };
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(handler, metrics,
                KafkaStage.Settings.of(TestBroker.bootstrap(), 16, Optional.empty()))) {
            send(t, "u-1", "fine");
            send(t, "u-2", "poison");
            send(t, "u-3", "poison-error");
            send(t, "u-4", "fine");
            assertEquals(List.of("u-1", "u-4"), ids(t.out().name(), 2));
            List<ConsumerRecord<byte[], byte[]>> dead = TestBroker.await(Topics.deadLetterTopic(t.in().name()), 2,
                    r -> true);
            String reason = DeadLetters.header(dead.get(0).headers(), DeadLetters.REASON);
            assertTrue(reason.contains("java.lang.IllegalStateException: the check fell over"), reason);
            assertTrue(DeadLetters.header(dead.get(1).headers(), DeadLetters.REASON).contains("AssertionError"));
            assertEquals(1, failedEvents("u-2").size(), "the dead-lettered request failed with an event");
            assertNull(stage.failure(), "the stage is alive");
            assertEquals(2, metrics.kafkaProblems("tokenizer", "unexpected-record"));
        }
    }

    @Test
    void aBatchThatFailsIsComputedRecordByRecordAndOnlyTheFailingRecordIsDeadLettered() throws Exception {
        Topics3 t = topics("ks-batch", 1 << 20);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        CountDownLatch sent = new CountDownLatch(1);
        Echo handler = new Echo(Stage.STAGE_SAMPLER, t) {
            @Override
            public void process(List<GenerationRequest> records, Emitter out) throws InterruptedException {
                sent.await(30, TimeUnit.SECONDS);
                if (records.stream().anyMatch(r -> r.getCaption().equals("poison"))) {
                    throw new IllegalArgumentException("cannot compute poison");
                }
                super.process(records, out);
            }
        };
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(handler, metrics,
                KafkaStage.Settings.of(TestBroker.bootstrap(), 16, Optional.empty()))) {
            send(t, "b-1", "fine");
            send(t, "b-2", "poison");
            send(t, "b-3", "fine");
            sent.countDown();
            List<String> out = ids(t.out().name(), 2);
            assertEquals(List.of("b-1", "b-3"), out.stream().sorted().toList());
            var dead = TestBroker.await(Topics.deadLetterTopic(t.in().name()), 1, r -> true);
            assertEquals("b-2", new String(dead.get(0).key(), StandardCharsets.UTF_8));
            assertNull(stage.failure());
        }
    }

    @Test
    void anOutputTheBrokerWillNeverTakeDeadLettersItsRequestAndThePartitionMovesOn() throws Exception {
        Topics3 t = topics("ks-too-large", 1024);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        Echo handler = new Echo(Stage.STAGE_DECODER, t) { };
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(handler, metrics,
                KafkaStage.Settings.of(TestBroker.bootstrap(), 1, Optional.empty()))) {
            send(t, "l-1", "small");
            send(t, "l-2", "x".repeat(5000)); // its copy is larger than the output topic's 1 KiB
            send(t, "l-3", "small");
            assertEquals(List.of("l-1", "l-3"), ids(t.out().name(), 2));
            var dead = TestBroker.await(Topics.deadLetterTopic(t.in().name()), 1, r -> true);
            assertEquals("l-2", new String(dead.get(0).key(), StandardCharsets.UTF_8));
            String reason = DeadLetters.header(dead.get(0).headers(), DeadLetters.REASON);
            assertTrue(reason.contains("refused by Kafka") && reason.contains("RecordTooLarge"), reason);
            assertEquals(1, failedEvents("l-2").size());
            assertNull(stage.failure());
        }
    }

    @Test
    void anUnparseableRecordIsDeadLetteredWithoutFailingTheRequestItsKeyNames() throws Exception {
        Topics3 t = topics("ks-unparseable", 1 << 20);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(new Echo(Stage.STAGE_RERANKER,
                t) { }, metrics, KafkaStage.Settings.of(TestBroker.bootstrap(), 16, Optional.empty()))) {
            // someone else's request id as the key of garbage: that request must not fail
            TestBroker.send(t.in().name(), "victim-1", new byte[] {(byte) 0xff, 0x01, 0x02});
            send(t, "p-2", "fine");
            assertEquals(List.of("p-2"), ids(t.out().name(), 1));
            TestBroker.await(Topics.deadLetterTopic(t.in().name()), 1, r -> true);
            assertEquals(List.of(), failedEvents("victim-1"), "no FAILED event under the garbage's key");
            assertNull(stage.failure());
        }
    }

    @Test
    void aRecordKeyedOtherwiseThanItsRequestIdIsDeadLetteredAndFailsThatRequest() throws Exception {
        Topics3 t = topics("ks-key", 1 << 20);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(new Echo(Stage.STAGE_TOKENIZER,
                t) { }, metrics, KafkaStage.Settings.of(TestBroker.bootstrap(), 16, Optional.empty()))) {
            TestBroker.send(t.in().name(), "my-key", GenerationRequest.newBuilder().setRequestId("k-other")
                    .setCaption("a red circle").build().toByteArray());
            // no key at all is fine: the request id inside decides
            TestBroker.send(t.in().name(), null, GenerationRequest.newBuilder().setRequestId("k-2")
                    .setCaption("fine").build().toByteArray());
            assertEquals(List.of("k-2"), ids(t.out().name(), 1));
            List<ConsumerRecord<byte[], byte[]>> dead = TestBroker.await(Topics.deadLetterTopic(t.in().name()), 1,
                    r -> true);
            assertEquals("my-key", new String(dead.get(0).key(), StandardCharsets.UTF_8));
            assertEquals("request_id: record key 'my-key' differs from request_id 'k-other' (the key must be the "
                    + "request id)", DeadLetters.header(dead.get(0).headers(), DeadLetters.REASON));
            List<GenerationEvent> failed = failedEvents("k-other");
            assertEquals(1, failed.size());
            assertEquals("request_id", failed.get(0).getError().getField());
            assertEquals(List.of(), failedEvents("my-key"), "no FAILED event under a key that is not the id");
            assertNull(stage.failure());
        }
    }

    @Test
    void aCommitRefusedAfterTheGroupMovedOnDoesNotStopTheStage() throws Exception {
        Topics3 t = topics("ks-rebalance", 1 << 20);
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        CountDownLatch inProcess = new CountDownLatch(1);
        Echo handler = new Echo(Stage.STAGE_GATEWAY, t) {
            @Override
            public void process(List<GenerationRequest> records, Emitter out) throws InterruptedException {
                if (records.stream().anyMatch(r -> r.getCaption().equals("hold"))) {
                    inProcess.countDown();
                    Thread.sleep(6000); // longer than max.poll.interval.ms: the group rebalances without it
                }
                super.process(records, out);
            }
        };
        // a short max.poll.interval.ms stands in for a slow batch during a KEDA scale-out
        KafkaStage.Settings settings = KafkaStage.Settings.of(TestBroker.bootstrap(), 16, Optional.empty())
                .withClient(Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3000));
        try (KafkaStage<GenerationRequest, GenerationRequest> stage = new KafkaStage<>(handler, metrics, settings)) {
            send(t, "r-1", "hold");
            assertTrue(inProcess.await(60, TimeUnit.SECONDS));
            // the stage's commit of r-1 comes after its membership expired: CommitFailedException
            send(t, "r-2", "after");
            List<String> out = ids(t.out().name(), 2);
            assertTrue(out.contains("r-1") && out.contains("r-2"), out.toString());
            assertNull(stage.failure(), "the stage is alive after the refused commit");
            assertTrue(metrics.kafkaProblems("gateway", "commit") >= 1, "the refused commit is counted");
        }
    }
}
