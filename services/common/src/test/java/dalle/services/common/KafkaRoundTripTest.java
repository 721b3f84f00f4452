package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.GenerationRequest;
import dalle.v1.Stage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Payloads and dead letters through a real broker, with the registry's serdes. */
class KafkaRoundTripTest {

    @BeforeAll
    static void topics() throws Exception {
        try (Admin admin = TestBroker.admin()) {
            new TopicSetup(admin, (short) 1, TestBroker.TIMEOUT).apply(false);
        }
    }

    @Test
    void aGenerationRequestProducedWithTheRegistrySerdesIsConsumedBackEqual() throws Exception {
        TopicSpec<GenerationRequest> topic = Topics.GENERATION_REQUESTS;
        GenerationRequest sent = ProtoSerdeTest.sampleRequest("req-round-trip");
        Map<String, Object> pc = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestBroker.bootstrap(),
                ProducerConfig.ACKS_CONFIG, "all");
        RecordMetadata at;
        try (KafkaProducer<String, GenerationRequest> producer =
                new KafkaProducer<>(pc, topic.keySerde().serializer(), topic.valueSerde().serializer())) {
            at = producer.send(new ProducerRecord<>(topic.name(), sent.getRequestId(), sent)).get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> cc = new HashMap<>();
        cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestBroker.bootstrap());
        cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, GenerationRequest> consumer =
                new KafkaConsumer<>(cc, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            TopicPartition tp = new TopicPartition(topic.name(), at.partition());
            consumer.assign(List.of(tp));
            consumer.seek(tp, at.offset());
            ConsumerRecord<String, GenerationRequest> got = null;
            long deadline = System.nanoTime() + TestBroker.TIMEOUT.toNanos();
            while (got == null && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, GenerationRequest> r : consumer.poll(Duration.ofMillis(200))) {
                    got = r.offset() == at.offset() ? r : got;
                }
            }
            assertTrue(got != null, "record read back");
            assertEquals("req-round-trip", got.key());
            assertEquals(sent, got.value());
        }
    }

    @Test
    void aMalformedRequestIsDeadLetteredWithAllHeadersAndItsOriginalBytes() throws Exception {
        byte[] key = "req-malformed".getBytes(StandardCharsets.UTF_8);
        byte[] garbage = "not a protobuf".getBytes(StandardCharsets.UTF_8);
        RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));
        try (KafkaProducer<byte[], byte[]> producer = TestBroker.producer()) {
            RecordMetadata at = producer.send(new ProducerRecord<>("generation-requests", null, key, garbage, headers))
                    .get(30, TimeUnit.SECONDS);

            // The tokenizer's view: raw bytes that do not parse.
            ConsumerRecord<byte[], byte[]> consumed = TestBroker.readAt("generation-requests", at.partition(), at.offset());
            Parsed.Failed<GenerationRequest> failed = ProtoSerdeTest.failed(Topics.GENERATION_REQUESTS.parse(consumed.value()));
            long before = System.currentTimeMillis();
            RecordMetadata dlqAt = producer.send(DeadLetters.record(consumed, Stage.STAGE_TOKENIZER, failed.cause()))
                    .get(30, TimeUnit.SECONDS);
            long after = System.currentTimeMillis();

            assertEquals("generation-requests-dlq", dlqAt.topic());
            ConsumerRecord<byte[], byte[]> letter = TestBroker.readAt(dlqAt.topic(), dlqAt.partition(), dlqAt.offset());
            assertArrayEquals(key, letter.key());
            assertArrayEquals(garbage, letter.value());
            assertEquals("abc", DeadLetters.header(letter.headers(), "trace-id"));
            String reason = DeadLetters.header(letter.headers(), DeadLetters.REASON);
            assertTrue(reason.startsWith("com.google.protobuf.InvalidProtocolBufferException"), reason);
            assertTrue(reason.contains(": Protocol message"), reason);
            assertEquals("generation-requests", DeadLetters.header(letter.headers(), DeadLetters.SOURCE_TOPIC));
            assertEquals(Integer.toString(at.partition()), DeadLetters.header(letter.headers(), DeadLetters.SOURCE_PARTITION));
            assertEquals(Long.toString(at.offset()), DeadLetters.header(letter.headers(), DeadLetters.SOURCE_OFFSET));
            assertEquals("STAGE_TOKENIZER", DeadLetters.header(letter.headers(), DeadLetters.STAGE));
            long when = Long.parseLong(DeadLetters.header(letter.headers(), DeadLetters.TIMESTAMP_MS));
            assertTrue(when >= before && when <= after, when + " not in [" + before + ", " + after + "]");
        }
    }
}
