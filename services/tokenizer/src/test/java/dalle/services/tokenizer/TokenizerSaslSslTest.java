package dalle.services.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.SecureTestBroker;
import dalle.services.common.Topics;
import dalle.services.common.kafka.KafkaAccess;
import dalle.v1.GenerationRequest;
import dalle.v1.TokenizedRequest;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer service on a broker that speaks only SASL_SSL with the authorizer on: configured with nothing but
 * the documented keys (kafka.security.protocol, kafka.sasl.username, kafka.sasl.password-file,
 * kafka.ssl.truststore.location), as its own principal dalle-tokenizer with exactly its ACLs, its Kafka stage
 * tokenizes a request that a batch client (principal batch-client) submitted.
 */
@QuarkusTest
@WithTestResource(TokenizerSaslSslTest.SecureBundle.class)
class TokenizerSaslSslTest {

    /** The SASL_SSL test broker and the tokenizer's own keys. */
    public static class SecureBundle implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            Map<String, String> config = new HashMap<>(SecureTestBroker.keys("dalle-tokenizer"));
            config.put("kafka.bootstrap.servers", SecureTestBroker.bootstrap());
            config.put("dalle.model", TokenizerBundle.dir().toString());
            return config;
        }

        @Override
        public void stop() {
            // the broker stops with the test JVM
        }
    }

    @Test
    void aRequestABatchClientSubmitsIsTokenizedByTheStageLoggedInAsItsOwnUser() throws Exception {
        Map<String, Object> batch = SecureTestBroker.kafka().clientProperties(KafkaAccess.BATCH_CLIENT,
                SecureTestBroker.password(KafkaAccess.BATCH_CLIENT));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(batch, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(),
                    "tok-sasl-1".getBytes(StandardCharsets.UTF_8), GenerationRequest.newBuilder()
                            .setRequestId("tok-sasl-1").setCaption("a red cube").setCandidates(1).setTopK(1).build()
                            .toByteArray())).get(30, TimeUnit.SECONDS);
        }
        List<TokenizedRequest> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(SecureTestBroker.kafka().adminProperties(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(Topics.TOKENIZED_REQUESTS.name(), Duration.ofSeconds(30))
                    .forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (out.isEmpty() && System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    TokenizedRequest t = Topics.TOKENIZED_REQUESTS.parse(r.value()).value();
                    if (t.getRequestId().equals("tok-sasl-1")) {
                        out.add(t);
                    }
                }
            }
        }
        assertEquals(1, out.size(), "tokenized-requests has the request");
        assertTrue(out.get(0).getContext().getTextTokensCount() > 0, out.get(0).toString());
    }
}
