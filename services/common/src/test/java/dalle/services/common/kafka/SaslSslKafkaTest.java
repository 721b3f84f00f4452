package dalle.services.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.SecureTestBroker;
import dalle.services.common.TopicSetup;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.stage.StageMetrics;
import dalle.v1.GenerationRequest;
import dalle.v1.GenerationResult;
import dalle.v1.Stage;
import dalle.v1.TokenizedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Every Kafka client of the project against a real broker that listens only on SASL_SSL (SCRAM-SHA-512, TLS with
 * a certificate made at start) with Kafka's authorizer on and the ACLs of {@link KafkaAccess}: configured through
 * {@link KafkaSecurity}'s keys, a stage and a batch client work; without credentials a client is refused in
 * bounded time; a principal cannot write another stage's topic.
 */
class SaslSslKafkaTest {

    private static final Duration BOUND = Duration.ofSeconds(20);

    @Test
    void aClientWithAWrongPasswordIsRefusedWithAnAuthenticationErrorNotAHang() throws Exception {
        Map<String, String> keys = new HashMap<>(SecureTestBroker.keys(KafkaAccess.BATCH_CLIENT));
        keys.remove(KafkaSecurity.SASL_PASSWORD_FILE);
        keys.put(KafkaSecurity.SASL_PASSWORD, "not-the-password");
        String bootstrap = SecureTestBroker.bootstrap(); // the broker starts before the clock does
        long t0 = System.nanoTime();
        try (Admin admin = Admin.create(TopicSetup.adminConfig(bootstrap, BOUND, KafkaSecurity.fromMap(keys)))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(BOUND.toSeconds() + 5, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), e.toString());
        }
        assertTrue(System.nanoTime() - t0 < BOUND.toNanos(), "refused within " + BOUND);
    }

    @Test
    void aPlaintextClientWithoutCredentialsGetsNothingAndGivesUpWithinItsTimeout() throws Exception {
        String bootstrap = SecureTestBroker.bootstrap();
        long t0 = System.nanoTime();
        try (Admin admin = Admin.create(TopicSetup.adminConfig(bootstrap, Duration.ofSeconds(5)))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(15, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, e.toString());
        }
        assertTrue(System.nanoTime() - t0 < BOUND.toNanos(), "gave up within " + BOUND);
    }

    @Test
    void aStageWithItsOwnPrincipalConsumesItsInputAndWritesItsOutputOverSaslSsl() throws Exception {
        // the tokenizer's grants, read through the same keys a service reads
        KafkaSecurity stage = KafkaSecurity.fromMap(SecureTestBroker.keys("dalle-tokenizer"));
        KafkaSecurity batch = KafkaSecurity.fromMap(SecureTestBroker.keys(KafkaAccess.BATCH_CLIENT));
        StageMetrics metrics = new StageMetrics(new SimpleMeterRegistry());
        try (KafkaStage<GenerationRequest, GenerationRequest> kafka = new KafkaStage<>(new Tokenize(), metrics,
                KafkaStage.Settings.of(SecureTestBroker.bootstrap(), 16, Optional.empty())
                        .withClient(stage.with(Map.of())))) {
            try (KafkaProducer<byte[], byte[]> producer = producer(batch)) {
                producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), bytes("sec-1"),
                        GenerationRequest.newBuilder().setRequestId("sec-1").setCaption("a red cube").build()
                                .toByteArray())).get(30, TimeUnit.SECONDS);
            }
            List<ConsumerRecord<byte[], byte[]>> out = read(SecureTestBroker.kafka().adminProperties(),
                    Topics.TOKENIZED_REQUESTS.name(), "sec-1");
            assertEquals("sec-1", Topics.TOKENIZED_REQUESTS.parse(out.get(0).value()).value().getRequestId());
            assertNull(kafka.failure(), "the stage runs");
        }
    }

    @Test
    void aBatchClientReadsResultsButNoPrincipalWritesAnotherStagesTopic() throws Exception {
        KafkaSecurity batch = KafkaSecurity.fromMap(SecureTestBroker.keys(KafkaAccess.BATCH_CLIENT));
        KafkaSecurity tokenizer = KafkaSecurity.fromMap(SecureTestBroker.keys("dalle-tokenizer"));
        try (KafkaProducer<byte[], byte[]> asAdmin = new KafkaProducer<>(SecureTestBroker.kafka().adminProperties(),
                        new ByteArraySerializer(), new ByteArraySerializer())) {
            asAdmin.send(new ProducerRecord<>(Topics.GENERATION_RESULTS.name(), bytes("res-1"),
                    GenerationResult.newBuilder().setRequestId("res-1").build().toByteArray())).get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> batchConsumer = batch.with(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SecureTestBroker.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, KafkaAccess.BATCH_CLIENT + "-results"));
        assertEquals(1, read(batchConsumer, Topics.GENERATION_RESULTS.name(), "res-1").size(),
                "the batch client reads generation-results in its own group");

        for (var who : List.of(Map.entry(KafkaAccess.BATCH_CLIENT, batch), Map.entry("dalle-tokenizer", tokenizer))) {
            try (KafkaProducer<byte[], byte[]> producer = producer(who.getValue())) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> producer.send(
                        new ProducerRecord<>(Topics.CANDIDATE_SCORES.name(), bytes("forged"), new byte[] {1}))
                        .get(30, TimeUnit.SECONDS), who.getKey() + " forges a score");
                assertInstanceOf(TopicAuthorizationException.class, e.getCause(), who.getKey() + ": " + e);
            }
        }
    }

    /** The tokenizer's Kafka shape without its model: generation-requests to tokenized-requests. */
    private static final class Tokenize implements StageHandler<GenerationRequest, GenerationRequest> {
        @Override
        public Stage stage() {
            return Stage.STAGE_TOKENIZER;
        }

        @Override
        public TopicSpec<GenerationRequest> input() {
            return Topics.GENERATION_REQUESTS;
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
        public void process(List<GenerationRequest> records, Emitter out) {
            for (GenerationRequest r : records) {
                out.send(Topics.TOKENIZED_REQUESTS, r.getRequestId(),
                        TokenizedRequest.newBuilder().setRequestId(r.getRequestId()).build());
            }
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaSecurity security) {
        return new KafkaProducer<>(security.with(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                SecureTestBroker.bootstrap(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000)), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Reads {@code topic} from the beginning until a record keyed {@code key} arrives (in the group, if any). */
    private static List<ConsumerRecord<byte[], byte[]>> read(Map<String, Object> client, String topic, String key) {
        Map<String, Object> c = new HashMap<>(client);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<byte[], byte[]>> found = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            if (c.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
                consumer.subscribe(List.of(topic));
            } else {
                List<org.apache.kafka.common.TopicPartition> parts = new ArrayList<>();
                consumer.partitionsFor(topic, Duration.ofSeconds(30))
                        .forEach(p -> parts.add(new org.apache.kafka.common.TopicPartition(topic, p.partition())));
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
            }
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (found.isEmpty() && System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(new String(r.key(), StandardCharsets.UTF_8))) {
                        found.add(r);
                    }
                }
            }
        }
        assertTrue(!found.isEmpty(), "no record " + key + " on " + topic);
        return found;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
