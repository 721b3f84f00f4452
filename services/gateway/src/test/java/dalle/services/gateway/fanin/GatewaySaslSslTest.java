package dalle.services.gateway.fanin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.SecureTestBroker;
import dalle.services.common.Topics;
import dalle.services.common.kafka.KafkaAccess;
import dalle.services.common.kafka.KafkaSecurity;
import dalle.v1.GenerationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's two Streams applications (exactly-once, internal topics, static membership) on the SASL_SSL broker
 * with the authorizer on, as the principal dalle-gateway with exactly its ACLs ({@link KafkaAccess#gateway()}):
 * they run, and the reranker's scores become a result that a batch client reads.
 */
class GatewaySaslSslTest {

    @Test
    void theFanInAndTheStatusViewRunAsTheGatewayUserWithOnlyItsAcls(@TempDir Path state) throws Exception {
        Map<String, String> gateway = KafkaSecurity.fromMap(SecureTestBroker.keys(KafkaAccess.GATEWAY)).properties();
        GatewayStreams.Options options = new GatewayStreams.Options(SecureTestBroker.bootstrap(), state, "sasl-gw",
                KafkaAccess.GATEWAY_APPLICATION_IDS.get(0), KafkaAccess.GATEWAY_APPLICATION_IDS.get(1),
                Duration.ofMinutes(30), Duration.ofHours(1), gateway);
        try (GatewayStreams streams = new GatewayStreams(options)) {
            long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!streams.running() && System.nanoTime() < end) {
                Thread.sleep(200);
            }
            assertTrue(streams.running(), "both applications running: " + streams.state());

            Requests req = new Requests("sasl-gw-1", 2, 1);
            KafkaSecurity reranker = KafkaSecurity.fromMap(SecureTestBroker.keys("dalle-reranker"));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(reranker.with(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SecureTestBroker.bootstrap())),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (ProducerRecord<byte[], byte[]> r : List.of(req.record(0, 0.5f), req.record(1, 0.25f))) {
                    producer.send(r).get(30, TimeUnit.SECONDS);
                }
            }
            KafkaSecurity batch = KafkaSecurity.fromMap(SecureTestBroker.keys(KafkaAccess.BATCH_CLIENT));
            List<GenerationResult> results = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(batch.with(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SecureTestBroker.bootstrap(),
                    ConsumerConfig.GROUP_ID_CONFIG, KafkaAccess.BATCH_CLIENT + "-gateway-test",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(Topics.GENERATION_RESULTS.name()));
                long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (results.isEmpty() && System.nanoTime() < until) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        if (req.id().equals(new String(r.key(), StandardCharsets.UTF_8))) {
                            results.add(Topics.GENERATION_RESULTS.parse(r.value()).value());
                        }
                    }
                }
            }
            assertEquals(1, results.size(), "one result, read by the batch client");
            assertEquals(0, results.get(0).getImages(0).getCandidateIndex());
        }
    }
}
