package dalle.services.gateway.fanin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dalle.services.common.DeadLetters;
import dalle.services.common.TestBroker;
import dalle.services.common.Topics;
import dalle.v1.CandidateScore;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import dalle.v1.Image;
import dalle.v1.RankedImage;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fan-in against a real broker: one result per request, whatever the delivery does. */
class FanInTest {

    private static final List<String> INPUTS = List.of(Topics.CANDIDATE_SCORES.name(),
            Topics.GENERATION_EVENTS.name());

    /** The results of {@code ids}: once at least {@code atLeast} arrived, or all there are when it is 0. */
    static List<GenerationResult> results(Set<String> ids, int atLeast) {
        List<GenerationResult> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TestBroker.read(Topics.GENERATION_RESULTS.name(), ids,
                atLeast == 0 ? null : got -> got.size() >= atLeast, TestBroker.TIMEOUT)) {
            out.add(Topics.GENERATION_RESULTS.parse(r.value()).value());
            dalle.services.common.kafka.CloudEventsTest.assertCloudEvent(r.headers(), "dalle.v1.GenerationResult");
        }
        return out;
    }

    @Test
    void duplicatesAndOutOfOrderCandidatesGiveOneResultWithTheTopKByScoreThenIndex(@TempDir Path state)
            throws Exception {
        Requests req = new Requests("dup-order-1", 8, 3);
        // Scores: 5 ties with 2 at the top (0.9), so rank 1 is the lower index 2, rank 2 index 5.
        float[] scores = {0.1f, 0.5f, 0.9f, -0.3f, 0.7f, 0.9f, 0.2f, Float.NaN};
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            records.add(req.record(i, scores[i]));
            if (i % 3 == 0) {
                records.add(req.record(i, scores[i])); // at-least-once redelivery
            }
        }
        Collections.shuffle(records, new Random(42));
        String app = "fan-in-dup-order";
        try (FanIn fanIn = FanIn.start(TestStreams.settings(app, state))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(records);
            List<GenerationResult> first = results(Set.of(req.id()), 1);
            assertEquals(1, first.size());
            GenerationResult r = first.get(0);
            assertEquals(List.of(2, 5, 4), r.getImagesList().stream().map(RankedImage::getCandidateIndex).toList());
            assertEquals(List.of(1, 2, 3), r.getImagesList().stream().map(RankedImage::getRank).toList());
            assertEquals(0.9f, r.getImages(0).getScore());
            assertEquals("dup-order-1#2", r.getImages(0).getImage().getPng().toStringUtf8());
            assertEquals("caption of dup-order-1", r.getCaption());
            assertEquals("tiny-test", r.getBundleVersion());
            assertEquals(7, r.getSeed());
            assertEquals(Requests.SUBMITTED, r.getSubmittedAtMs());
            assertTrue(!r.hasError() && r.getCompletedAtMs() > 0);

            TestBroker.sendAll(List.of(req.record(3, 5f), req.record(0, 0.1f))); // late duplicates, one "better"
            TestBroker.awaitDrained(app, INPUTS);
        }
        assertEquals(1, results(Set.of(req.id()), 0).size(), "late duplicates must not emit again");
    }

    @Test
    void aRestartMidwayLosesNoCandidateAndEmitsExactlyOneResultPerRequest(@TempDir Path state) throws Exception {
        Requests a = new Requests("restart-a", 6, 2);
        Requests b = new Requests("restart-b", 4, 4);
        String app = "fan-in-restart";
        // Static membership: the restarted instance takes its partitions back without a session timeout.
        StreamsSettings settings = TestStreams.settings(app, state).with("group.instance.id", "restart-test");
        try (FanIn fanIn = FanIn.start(settings)) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(List.of(a.record(0, 0.0f), a.record(1, 0.1f), a.record(2, 0.2f), b.record(3, 3f)));
            TestBroker.awaitDrained(app, INPUTS);
        }
        try (FanIn fanIn = FanIn.start(settings)) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            // The rest, plus replays of what the first run already counted.
            TestBroker.sendAll(List.of(a.record(2, 0.2f), a.record(3, 0.3f), b.record(0, 0f), a.record(1, 0.1f),
                    b.record(3, 3f), b.record(1, 1f)));
            TestBroker.awaitDrained(app, INPUTS);
        }
        // A third run on an empty state folder restores the store from its changelog topic.
        TestBroker.deleteTree(state);
        try (FanIn fanIn = FanIn.start(settings)) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(List.of(a.record(5, 0.5f), a.record(4, 0.4f), b.record(2, 2f), a.record(0, 0f)));
            List<GenerationResult> got = results(Set.of(a.id(), b.id()), 2);
            assertEquals(2, got.size());
            TestBroker.sendAll(List.of(b.record(2, 2f), a.record(5, 0.5f)));
            TestBroker.awaitDrained(app, INPUTS);
        }
        List<GenerationResult> all = results(Set.of(a.id(), b.id()), 0);
        assertEquals(2, all.size(), "one result per request: " + all);
        GenerationResult ra = all.stream().filter(r -> r.getRequestId().equals(a.id())).findFirst().orElseThrow();
        GenerationResult rb = all.stream().filter(r -> r.getRequestId().equals(b.id())).findFirst().orElseThrow();
        assertEquals(List.of(5, 4), ra.getImagesList().stream().map(RankedImage::getCandidateIndex).toList());
        assertEquals(List.of(3, 2, 1, 0), rb.getImagesList().stream().map(RankedImage::getCandidateIndex).toList());
    }

    @Test
    void malformedRecordsGoToTheDeadLetterTopicWithReasonsAndProcessingContinues(@TempDir Path state)
            throws Exception {
        Requests ok = new Requests("after-garbage", 2, 1);
        byte[] garbage = {(byte) 0xFF, 0x00, 0x13, 0x37};
        byte[] outOfRange = new Requests("bad-index", 2, 1).score(2, 1f).toByteArray();
        byte[] noKey = new Requests("no-key", 1, 1).score(0, 1f).toByteArray();
        String app = "fan-in-dlq";
        try (FanIn fanIn = FanIn.start(TestStreams.settings(app, state))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.send(Topics.CANDIDATE_SCORES.name(), "garbage-1", garbage);
            TestBroker.send(Topics.CANDIDATE_SCORES.name(), "bad-index", outOfRange);
            TestBroker.send(Topics.CANDIDATE_SCORES.name(), null, noKey);
            TestBroker.send(Topics.GENERATION_EVENTS.name(), "garbage-2", garbage);
            TestBroker.sendAll(List.of(ok.record(1, 0.5f), ok.record(0, 0.25f)));
            List<GenerationResult> got = results(Set.of(ok.id()), 1);
            assertEquals(1, got.size());
            assertEquals(1, got.get(0).getImages(0).getCandidateIndex());
        }
        // until all three are there (read_committed: a dead letter shows once the fan-in's transaction commits);
        // other tests' key-less dead letters share the topic, so the key-less one is ours only with our bytes
        java.util.function.Predicate<ConsumerRecord<byte[], byte[]>> ours =
                r -> r.key() != null || java.util.Arrays.equals(noKey, r.value());
        List<ConsumerRecord<byte[], byte[]>> scoresDlq = TestBroker.read("candidate-scores-dlq",
                Set.of("garbage-1", "bad-index", ""), got -> got.stream().filter(ours).count() >= 3,
                TestBroker.TIMEOUT).stream().filter(ours).toList();
        assertEquals(3, scoresDlq.size());
        for (ConsumerRecord<byte[], byte[]> r : scoresDlq) {
            String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
            String reason = DeadLetters.header(r.headers(), DeadLetters.REASON);
            assertEquals("STAGE_FAN_IN", DeadLetters.header(r.headers(), DeadLetters.STAGE));
            assertEquals("candidate-scores", DeadLetters.header(r.headers(), DeadLetters.SOURCE_TOPIC));
            if (key.equals("garbage-1")) {
                assertArrayEquals(garbage, r.value());
                assertTrue(reason.startsWith("com.google.protobuf.InvalidProtocolBufferException"), reason);
            } else if (key.isEmpty()) {
                assertEquals("candidate-scores record of request 'no-key': the record has no key (it must be the "
                        + "request id, so that all records of a request share a partition)", reason);
            } else {
                assertArrayEquals(outOfRange, r.value());
                assertEquals("candidate-scores record of request 'bad-index': candidate_index 2 is outside [0, 2)",
                        reason);
            }
        }
        // the out-of-range candidate was dropped, so its request cannot complete: it fails at once
        List<GenerationResult> dropped = results(Set.of("bad-index"), 1);
        assertEquals(1, dropped.size());
        assertEquals(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, dropped.get(0).getError().getCode());
        assertTrue(dropped.get(0).getError().getMessage().contains("candidate_index 2 is outside [0, 2)"),
                dropped.get(0).getError().getMessage());
        List<ConsumerRecord<byte[], byte[]>> eventsDlq = TestBroker.read("generation-events-dlq",
                Set.of("garbage-2"), g -> !g.isEmpty(), TestBroker.TIMEOUT);
        assertEquals(1, eventsDlq.size());
        assertArrayEquals(garbage, eventsDlq.get(0).value());
    }

    @Test
    void aFailedEventFailsTheRequestOnceAndLateCandidatesEmitNothing(@TempDir Path state) throws Exception {
        Requests req = new Requests("failed-1", 3, 1);
        Failure failure = Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_UNAVAILABLE).setStage(Stage.STAGE_DECODER)
                .setMessage("decoder lost its GPU").build();
        byte[] failed = GenerationEvent.newBuilder().setRequestId(req.id()).setStage(Stage.STAGE_DECODER)
                .setStatus(StageStatus.STAGE_STATUS_FAILED).setError(failure).setTimestampMs(5).build().toByteArray();
        String app = "fan-in-failed";
        try (FanIn fanIn = FanIn.start(TestStreams.settings(app, state))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(List.of(req.record(0, 1f)));
            TestBroker.awaitDrained(app, INPUTS);
            TestBroker.send(Topics.GENERATION_EVENTS.name(), req.id(), failed);
            List<GenerationResult> got = results(Set.of(req.id()), 1);
            assertEquals(1, got.size());
            assertEquals(failure, got.get(0).getError());
            assertEquals(0, got.get(0).getImagesCount());
            assertEquals("tiny-test", got.get(0).getBundleVersion(), "the context of the candidates seen so far");
            TestBroker.send(Topics.GENERATION_EVENTS.name(), req.id(), failed);
            TestBroker.sendAll(List.of(req.record(1, 1f), req.record(2, 1f)));
            TestBroker.awaitDrained(app, INPUTS);
            Thread.sleep(1000); // the repeated failure travels through the repartition topic
        }
        assertEquals(1, results(Set.of(req.id()), 0).size());
    }

    /** A record carrying W3C trace context. */
    private static ProducerRecord<byte[], byte[]> traced(ProducerRecord<byte[], byte[]> r, String traceparent) {
        r.headers().add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    /** The traceparent of the first record of {@code id} on {@code topic} (of that status, for events). */
    private static String traceparent(String topic, String id, StageStatus status) {
        java.util.function.Predicate<ConsumerRecord<byte[], byte[]>> wanted = r -> status == null
                || Topics.GENERATION_EVENTS.parse(r.value()).value().getStatus() == status;
        for (ConsumerRecord<byte[], byte[]> r : TestBroker.read(topic, Set.of(id),
                got -> got.stream().anyMatch(wanted), TestBroker.TIMEOUT)) {
            if (wanted.test(r)) {
                return DeadLetters.header(r.headers(), "traceparent");
            }
        }
        throw new AssertionError("no " + (status == null ? "" : status + " ") + "record of " + id + " on " + topic);
    }

    @Test
    void theResultAndItsEventCarryTheTraceOfTheRecordThatCompletedOrFailedTheRequest(@TempDir Path state)
            throws Exception {
        String first = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        String last = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203332-01";
        String failure = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        Requests done = new Requests("trace-done", 2, 1);
        Requests failed = new Requests("trace-failed", 3, 1);
        byte[] failedEvent = GenerationEvent.newBuilder().setRequestId(failed.id()).setStage(Stage.STAGE_DECODER)
                .setStatus(StageStatus.STAGE_STATUS_FAILED).setMessage("decoder lost its GPU").setTimestampMs(5)
                .build().toByteArray();
        String app = "fan-in-trace";
        try (FanIn fanIn = FanIn.start(TestStreams.settings(app, state))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(List.of(traced(done.record(0, 1f), first), failed.record(0, 1f)));
            TestBroker.awaitDrained(app, INPUTS);
            TestBroker.sendAll(List.of(traced(done.record(1, 2f), last), traced(new ProducerRecord<>(
                    Topics.GENERATION_EVENTS.name(), failed.id().getBytes(StandardCharsets.UTF_8), failedEvent),
                    failure)));
            assertEquals(last, traceparent(Topics.GENERATION_RESULTS.name(), done.id(), null),
                    "the result goes on from the score that completed it");
            assertEquals(last, traceparent(Topics.GENERATION_EVENTS.name(), done.id(), StageStatus.STAGE_STATUS_SUCCEEDED),
                    "so does the SUCCEEDED event");
            assertEquals(failure, traceparent(Topics.GENERATION_RESULTS.name(), failed.id(), null),
                    "a failure's trace survives the repartition topic into the failed result");
        }
    }

    @Test
    void aPassedDeadlineFailsThePendingRequest(@TempDir Path state) throws Exception {
        Requests req = new Requests("deadline-1", 2, 1);
        long deadline = System.currentTimeMillis() + 1500;
        byte[] late = req.score(0, 1f).toBuilder()
                .setContext(req.context().toBuilder().setDeadlineMs(deadline)).build().toByteArray();
        try (FanIn fanIn = FanIn.start(TestStreams.settings("fan-in-deadline", state))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.send(Topics.CANDIDATE_SCORES.name(), req.id(), late);
            List<GenerationResult> got = results(Set.of(req.id()), 1);
            assertEquals(1, got.size());
            assertEquals(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, got.get(0).getError().getCode());
            assertTrue(got.get(0).getCompletedAtMs() >= deadline);
        }
    }

    @Test
    void aRequestPendingLongerThanTheMaximumAgeFailsAndLateCandidatesEmitNothing(@TempDir Path state)
            throws Exception {
        Requests req = new Requests("too-old-1", 2, 1, System.currentTimeMillis());
        String app = "fan-in-max-age";
        try (FanIn fanIn = FanIn.start(TestStreams.settings(app, state), Duration.ofSeconds(2))) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            TestBroker.sendAll(List.of(req.record(0, 1f))); // candidate 1 never comes
            List<GenerationResult> got = results(Set.of(req.id()), 1);
            assertEquals(1, got.size());
            GenerationResult r = got.get(0);
            assertEquals(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, r.getError().getCode());
            assertEquals(Stage.STAGE_FAN_IN, r.getError().getStage());
            assertTrue(r.getError().getMessage().contains("1 of 2 candidates arrived"), r.getError().getMessage());
            assertTrue(r.getCompletedAtMs() - req.submittedAtMs() >= 2000, "failed after the maximum age");
            TestBroker.sendAll(List.of(req.record(1, 1f)));
            TestBroker.awaitDrained(app, INPUTS);
        }
        assertEquals(1, results(Set.of(req.id()), 0).size(), "the late candidate must not emit again");
    }

    @Test
    void aResultTooLargeForItsTopicFailsItsRequestAndTheFanInGoesOn(@TempDir Path state) throws Exception {
        // 9 kept images of 3.9 MB: each fits candidate-scores (4 MiB), together not generation-results (32 MiB)
        Requests big = new Requests("too-big-1", 9, 9);
        Requests after = new Requests("after-too-big", 1, 1);
        byte[] png = new byte[3_900_000];
        new Random(1).nextBytes(png);
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestBroker.bootstrap(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20, ProducerConfig.ACKS_CONFIG, "all");
        try (FanIn fanIn = FanIn.start(TestStreams.settings("fan-in-too-big", state));
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            assertEquals(KafkaStreams.State.RUNNING, fanIn.state());
            for (int i = 0; i < big.candidates(); i++) {
                CandidateScore s = big.score(i, i).toBuilder().setImage(Image.newBuilder().setWidth(1).setHeight(1)
                        .setPng(ByteString.copyFrom(png))).build();
                producer.send(new ProducerRecord<>(Topics.CANDIDATE_SCORES.name(),
                        big.id().getBytes(StandardCharsets.UTF_8), s.toByteArray()));
            }
            producer.flush();
            TestBroker.sendAll(List.of(after.record(0, 1f)));
            List<GenerationResult> got = results(Set.of(big.id(), after.id()), 2);
            assertEquals(2, got.size());
            GenerationResult failed = got.stream().filter(r -> r.getRequestId().equals(big.id())).findFirst()
                    .orElseThrow();
            assertEquals(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED, failed.getError().getCode());
            assertTrue(failed.getError().getMessage().contains("top_k"), failed.getError().getMessage());
            assertEquals(0, failed.getImagesCount());
            GenerationResult ok = got.stream().filter(r -> r.getRequestId().equals(after.id())).findFirst()
                    .orElseThrow();
            assertEquals(1, ok.getImagesCount(), "the fan-in goes on");
        }
    }
}
