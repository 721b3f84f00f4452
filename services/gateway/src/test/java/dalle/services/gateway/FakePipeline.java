package dalle.services.gateway;

import dalle.services.common.Topics;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationRequest;
import dalle.v1.GenerationResult;
import dalle.v1.RankedImage;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plays the stages and the fan-in on Kafka for the gateway's own tests: every request on generation-requests gets a
 * sampler RUNNING event on generation-events, then its result on generation-results, candidate i being grey level
 * i·20 with score i·20 (as {@link FakeStages}), best first.
 */
final class FakePipeline implements AutoCloseable {

    private final Thread thread;
    private volatile boolean running = true;
    /** The headers of every request record read, in order. */
    final List<Headers> requestHeaders = new java.util.concurrent.CopyOnWriteArrayList<>();

    FakePipeline(String bootstrap) {
        thread = new Thread(() -> run(bootstrap), "fake-pipeline");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "fake-pipeline");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (var consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
             var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            consumer.subscribe(List.of(Topics.GENERATION_REQUESTS.name()));
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    GenerationRequest g = GenerationRequest.parseFrom(r.value());
                    requestHeaders.add(r.headers());
                    int n = g.getCandidates() == 0 ? 16 : g.getCandidates();
                    producer.send(new ProducerRecord<>(Topics.GENERATION_EVENTS.name(), g.getRequestId(),
                            GenerationEvent.newBuilder().setRequestId(g.getRequestId()).setStage(Stage.STAGE_SAMPLER)
                                    .setStatus(StageStatus.STAGE_STATUS_RUNNING).setCandidatesDone(n / 2)
                                    .setCandidatesTotal(n).setTimestampMs(System.currentTimeMillis()).build()
                                    .toByteArray()));
                    GenerationResult.Builder result = GenerationResult.newBuilder().setRequestId(g.getRequestId())
                            .setCaption(g.getCaption()).setSeed(g.getSeed()).setBundleVersion(FakeStages.VERSION)
                            .setSubmittedAtMs(g.getSubmittedAtMs()).setCompletedAtMs(System.currentTimeMillis());
                    int k = g.getTopK() == 0 ? Math.min(4, n) : g.getTopK();
                    for (int rank = 1; rank <= k; rank++) {
                        int i = n - rank;
                        result.addImages(RankedImage.newBuilder().setRank(rank).setCandidateIndex(i)
                                .setScore(i * 20f).setImage(FakeStages.grey(i * 20)));
                    }
                    producer.send(new ProducerRecord<>(Topics.GENERATION_RESULTS.name(), g.getRequestId(),
                            result.build().toByteArray()));
                }
                producer.flush();
            }
        } catch (Exception e) {
            if (running) {
                throw new IllegalStateException("the fake pipeline stopped", e);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
