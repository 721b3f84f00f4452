package dalle.services.app.kafka;

import dalle.services.common.kafka.KafkaStage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.pipeline.Generation;
import dalle.core.pipeline.GenerationRequest;
import dalle.services.app.SharedKafka;
import dalle.services.app.TestModel;
import dalle.services.app.stage.SamplerBatcher;
import dalle.services.common.stage.StageMetrics;
import dalle.services.app.stage.StageModel;
import dalle.services.app.stage.StageRuntime;
import dalle.services.common.DeadLetters;
import dalle.services.common.Topics;
import dalle.v1.CandidateScore;
import dalle.v1.ErrorCode;
import dalle.v1.GenerationEvent;
import dalle.v1.StageStatus;
import dalle.v1.TokenizedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The four Kafka stages against a real broker, fed and read as a batch client would. */
class KafkaStagesTest {

    private static StageModel model;
    private static StageMetrics metrics;
    private static StageRuntime runtime;
    private static List<KafkaStage<?, ?>> stages;

    @BeforeAll
    static void start() {
        String bootstrap = SharedKafka.bootstrap();
        model = TestModel.model();
        metrics = new StageMetrics(new SimpleMeterRegistry());
        runtime = new StageRuntime(model, new StageRuntime.Settings(
                new SamplerBatcher.Settings(16, Duration.ofMillis(5), 256), 8), metrics);
        stages = List.of(
                new KafkaStage<>(bootstrap, new TokenizerHandler(model), metrics, 64),
                new KafkaStage<>(bootstrap, new SamplerHandler(runtime), metrics, 16),
                new KafkaStage<>(bootstrap, new DecoderHandler(model), metrics, 64),
                new KafkaStage<>(bootstrap, new RerankerHandler(model), metrics, 64));
    }

    @AfterAll
    static void stop() {
        stages.forEach(KafkaStage::close);
        runtime.close();
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
        return new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
    }

    @Test
    void badRecordsAreDeadLetteredWithTheReasonAndTheRecordsAroundThemAreProcessed() throws Exception {
        String topic = Topics.GENERATION_REQUESTS.name();
        try (KafkaProducer<byte[], byte[]> p = SharedKafka.producer()) {
            p.send(record(topic, "dlq-ok-1", dalle.v1.GenerationRequest.newBuilder().setRequestId("dlq-ok-1")
                    .setCaption("a red circle").setCandidates(1).build().toByteArray())).get();
            p.send(record(topic, "dlq-garbage", new byte[] {(byte) 0xff, (byte) 0xff, 0x01})).get();
            p.send(record(topic, "dlq-blank", dalle.v1.GenerationRequest.newBuilder().setRequestId("dlq-blank")
                    .setCaption("   ").build().toByteArray())).get();
            p.send(record(topic, "dlq-ok-2", dalle.v1.GenerationRequest.newBuilder().setRequestId("dlq-ok-2")
                    .setCaption("a blue square").setCandidates(1).build().toByteArray())).get();
        }
        List<ConsumerRecord<byte[], byte[]>> tokenized = SharedKafka.await(Topics.TOKENIZED_REQUESTS.name(), 2,
                r -> key(r).startsWith("dlq-ok-"));
        assertEquals(Set.of("dlq-ok-1", "dlq-ok-2"), Set.of(key(tokenized.get(0)), key(tokenized.get(1))));
        TokenizedRequest t = TokenizedRequest.parseFrom(tokenized.get(0).value());
        assertEquals(model.version(), t.getContext().getBundleVersion());

        Map<String, ConsumerRecord<byte[], byte[]>> dead = new HashMap<>();
        for (var r : SharedKafka.await(topic + "-dlq", 2, r -> key(r).startsWith("dlq-"))) {
            dead.put(key(r), r);
        }
        assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}, dead.get("dlq-garbage").value());
        String garbage = DeadLetters.header(dead.get("dlq-garbage").headers(), DeadLetters.REASON);
        assertTrue(garbage.contains("InvalidProtocolBufferException"), garbage);
        String blank = DeadLetters.header(dead.get("dlq-blank").headers(), DeadLetters.REASON);
        assertTrue(blank.startsWith("caption:"), blank);
        assertEquals("STAGE_TOKENIZER", DeadLetters.header(dead.get("dlq-blank").headers(), DeadLetters.STAGE));
        assertTrue(metrics.deadLetterCount(topic) >= 2);

        var failed = SharedKafka.await(Topics.GENERATION_EVENTS.name(), 2, r -> {
            if (!key(r).startsWith("dlq-garbage") && !key(r).startsWith("dlq-blank")) {
                return false;
            }
            try {
                return GenerationEvent.parseFrom(r.value()).getStatus() == StageStatus.STAGE_STATUS_FAILED;
            } catch (Exception e) {
                return false;
            }
        });
        for (var r : failed) {
            GenerationEvent e = GenerationEvent.parseFrom(r.value());
            if (e.getRequestId().equals("dlq-blank")) {
                assertEquals(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, e.getError().getCode());
                assertEquals("caption", e.getError().getField());
            }
        }
    }

    @Test
    void aRequestPastItsDeadlineFailsWithDeadlineExceededAndIsNotTokenized() throws Exception {
        try (KafkaProducer<byte[], byte[]> p = SharedKafka.producer()) {
            p.send(record(Topics.GENERATION_REQUESTS.name(), "late-1", dalle.v1.GenerationRequest.newBuilder()
                    .setRequestId("late-1").setCaption("a red circle").setCandidates(1)
                    .setDeadlineMs(System.currentTimeMillis() - 1000).build().toByteArray())).get();
            p.send(record(Topics.GENERATION_REQUESTS.name(), "late-after", dalle.v1.GenerationRequest.newBuilder()
                    .setRequestId("late-after").setCaption("a red circle").setCandidates(1).build().toByteArray()))
                    .get();
        }
        var events = SharedKafka.await(Topics.GENERATION_EVENTS.name(), 1, r -> key(r).equals("late-1"));
        GenerationEvent e = GenerationEvent.parseFrom(events.get(0).value());
        assertEquals(StageStatus.STAGE_STATUS_FAILED, e.getStatus());
        assertEquals(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, e.getError().getCode());
        // the record after it is tokenized, so the stage has passed the late one: it was never forwarded
        SharedKafka.await(Topics.TOKENIZED_REQUESTS.name(), 1, r -> key(r).equals("late-after"));
        assertEquals(0, SharedKafka.count(Topics.TOKENIZED_REQUESTS.name(), r -> key(r).equals("late-1")));
        assertTrue(metrics.deadlineDroppedCount("tokenizer") >= 1);
    }

    @Test
    void aRequestFlowsThroughAllFourStagesWithTheInProcessImagesAndScores() throws Exception {
        try (KafkaProducer<byte[], byte[]> p = SharedKafka.producer()) {
            p.send(record(Topics.GENERATION_REQUESTS.name(), "chain-1", dalle.v1.GenerationRequest.newBuilder()
                    .setRequestId("chain-1").setCaption("a green triangle").setCandidates(3).setTopK(2).setSeed(21)
                    .build().toByteArray())).get();
        }
        List<ConsumerRecord<byte[], byte[]>> scores = SharedKafka.await(Topics.CANDIDATE_SCORES.name(), 3,
                r -> key(r).equals("chain-1"));
        Generation local = model.pipeline().generate(GenerationRequest.of("a green triangle", 3, 2, 21L));
        for (var r : scores) {
            CandidateScore s = CandidateScore.parseFrom(r.value());
            var c = local.ranked().stream().filter(x -> x.index() == s.getCandidateIndex()).findFirst().orElseThrow();
            assertArrayEquals(c.image().toPng(), s.getImage().getPng().toByteArray());
            assertEquals(3, s.getContext().getCandidates());
            assertEquals(2, s.getContext().getTopK());
        }
    }
}
