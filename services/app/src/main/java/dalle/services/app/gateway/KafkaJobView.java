package dalle.services.app.gateway;

import dalle.services.common.Parsed;
import dalle.services.common.Topics;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import dalle.v1.Job;
import dalle.v1.JobState;
import dalle.v1.StageStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * An in-memory job view: one thread reads generation-events and generation-results from the beginning (no
 * consumer group; every gateway replica builds its own view) and keeps the latest state of the most recent
 * {@value #MAX_JOBS} jobs. Not state in Kafka yet: the fan-in's status store is meant to replace it.
 */
public final class KafkaJobView implements JobStatusView, AutoCloseable {

    static final int MAX_JOBS = 10_000;

    private final Map<String, Job> jobs = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
            return size() > MAX_JOBS;
        }
    };
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    public KafkaJobView(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 40 << 20);
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::run, "gateway-job-view");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            List<TopicPartition> parts = new ArrayList<>();
            for (String topic : List.of(Topics.GENERATION_EVENTS.name(), Topics.GENERATION_RESULTS.name())) {
                List<PartitionInfo> infos = null;
                while (running && (infos == null || infos.isEmpty())) {
                    infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                }
                for (PartitionInfo i : infos) {
                    parts.add(new TopicPartition(i.topic(), i.partition()));
                }
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    apply(r);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (running) {
                throw e;
            }
        } finally {
            consumer.close();
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.topic().equals(Topics.GENERATION_EVENTS.name())) {
            if (Topics.GENERATION_EVENTS.parse(r.value()) instanceof Parsed.Ok<GenerationEvent> ok) {
                event(ok.value());
            }
        } else if (Topics.GENERATION_RESULTS.parse(r.value()) instanceof Parsed.Ok<GenerationResult> ok) {
            result(ok.value());
        }
    }

    synchronized void event(GenerationEvent e) {
        Job old = jobs.get(e.getRequestId());
        Job.Builder b = old == null ? Job.newBuilder().setJobId(e.getRequestId()) : old.toBuilder();
        if (b.getState() == JobState.JOB_STATE_SUCCEEDED || b.getState() == JobState.JOB_STATE_FAILED) {
            return;
        }
        b.setProgress(e);
        if (e.getStatus() == StageStatus.STAGE_STATUS_FAILED) {
            b.setState(JobState.JOB_STATE_FAILED).setError(e.getError());
        } else {
            b.setState(JobState.JOB_STATE_RUNNING);
        }
        jobs.put(e.getRequestId(), b.build());
    }

    synchronized void result(GenerationResult res) {
        Job old = jobs.get(res.getRequestId());
        Job.Builder b = old == null ? Job.newBuilder().setJobId(res.getRequestId()) : old.toBuilder();
        b.setSubmittedAtMs(res.getSubmittedAtMs());
        if (res.hasError()) {
            b.setState(JobState.JOB_STATE_FAILED).setError(res.getError()).clearResult();
        } else {
            b.setState(JobState.JOB_STATE_SUCCEEDED).clearError().setResult(GenerateResponse.newBuilder()
                    .setRequestId(res.getRequestId()).setSeed(res.getSeed()).addAllImages(res.getImagesList())
                    .setModel(dalle.v1.ModelInfo.newBuilder().setBundleVersion(res.getBundleVersion())));
        }
        jobs.put(res.getRequestId(), b.build());
    }

    @Override
    public synchronized void accepted(String jobId, long submittedAtMs) {
        jobs.putIfAbsent(jobId, Job.newBuilder().setJobId(jobId).setState(JobState.JOB_STATE_QUEUED)
                .setSubmittedAtMs(submittedAtMs).build());
    }

    @Override
    public synchronized Optional<Job> job(String jobId) {
        return Optional.ofNullable(jobs.get(jobId));
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
