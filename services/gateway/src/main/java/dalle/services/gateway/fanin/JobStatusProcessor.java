package dalle.services.gateway.fanin;

import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import dalle.v1.Job;
import dalle.v1.JobState;
import dalle.v1.ModelInfo;
import dalle.v1.StageStatus;
import dalle.v1.Timings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Folds a request's events and its result into its {@link Job} (key = request id):
 * <ul>
 *   <li>QUEUED until a stage reports RUNNING or SUCCEEDED, then RUNNING; {@code progress} is the latest event;</li>
 *   <li>the result makes it SUCCEEDED (with the images) or FAILED (with the result's error); a FAILED event makes
 *       it FAILED at once (the result follows from the fan-in);</li>
 *   <li>SUCCEEDED and FAILED are final: later events update nothing but {@code progress}, a second result nothing;
 *       the first final state sets {@code finished_at_ms}.</li>
 * </ul>
 * A wall-clock sweep (every {@link #SWEEP_INTERVAL}) deletes jobs that finished more than {@code retention} ago, and
 * jobs that have had no news for that long, so the store does not grow with every job ever run.
 */
final class JobStatusProcessor implements Processor<String, Item, Void, Void> {

    /** How often, at most, finished jobs past their retention are looked for (more often for short retentions). */
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);

    private final String storeName;
    private final Duration retention;
    private final LongSupplier clock;
    private KeyValueStore<String, Job> store;

    JobStatusProcessor(String storeName, Duration retention, LongSupplier clock) {
        this.storeName = storeName;
        this.retention = retention;
        this.clock = clock;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
        Duration every = retention.dividedBy(2).compareTo(SWEEP_INTERVAL) < 0 ? retention.dividedBy(2) : SWEEP_INTERVAL;
        context.schedule(every.isZero() ? Duration.ofMillis(1) : every, PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    /** Deletes jobs finished, or silent, for longer than the retention. */
    void sweep(long now) {
        List<String> old = new ArrayList<>();
        try (KeyValueIterator<String, Job> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, Job> kv = all.next();
                Job j = kv.value;
                long last = j.getFinishedAtMs() > 0 ? j.getFinishedAtMs()
                        : Math.max(j.getSubmittedAtMs(), j.getProgress().getTimestampMs());
                if (now - last > retention.toMillis()) {
                    old.add(kv.key);
                }
            }
        }
        old.forEach(store::delete);
    }

    @Override
    public void process(Record<String, Item> record) {
        String id = record.key();
        Job job = store.get(id);
        Job.Builder b = job == null ? Job.newBuilder().setJobId(id).setState(JobState.JOB_STATE_QUEUED)
                : job.toBuilder();
        if (record.value() instanceof Item.Event e) {
            onEvent(b, e.event());
        } else if (record.value() instanceof Item.Result r) {
            onResult(b, r.result());
        } else {
            return;
        }
        if (isFinal(b.getState()) && b.getFinishedAtMs() == 0) {
            b.setFinishedAtMs(clock.getAsLong());
        }
        store.put(id, b.build());
    }

    private static boolean isFinal(JobState s) {
        return s == JobState.JOB_STATE_SUCCEEDED || s == JobState.JOB_STATE_FAILED;
    }

    private static void onEvent(Job.Builder b, GenerationEvent e) {
        if (e.getStatus() == StageStatus.STAGE_STATUS_QUEUED && b.hasProgress()) {
            return; // the gateway's QUEUED event, overtaken by a stage's (another producer): nothing new
        }
        b.setProgress(e);
        if (b.getSubmittedAtMs() == 0 && e.getTimestampMs() > 0) {
            b.setSubmittedAtMs(e.getTimestampMs()); // the first event is the nearest to submission we know
        }
        if (isFinal(b.getState())) {
            return;
        }
        if (e.getStatus() == StageStatus.STAGE_STATUS_FAILED) {
            b.setState(JobState.JOB_STATE_FAILED);
            if (e.hasError()) {
                b.setError(e.getError());
            }
        } else if (e.getStatus() == StageStatus.STAGE_STATUS_RUNNING
                || e.getStatus() == StageStatus.STAGE_STATUS_SUCCEEDED) {
            b.setState(JobState.JOB_STATE_RUNNING);
        }
    }

    private static void onResult(Job.Builder b, GenerationResult r) {
        if (r.getSubmittedAtMs() > 0) {
            b.setSubmittedAtMs(r.getSubmittedAtMs());
        }
        if (b.getState() == JobState.JOB_STATE_SUCCEEDED || b.hasResult()) {
            return;
        }
        if (r.hasError()) {
            b.setState(JobState.JOB_STATE_FAILED).setError(r.getError());
            return;
        }
        if (b.getState() == JobState.JOB_STATE_FAILED) {
            return;
        }
        GenerateResponse.Builder response = GenerateResponse.newBuilder().setRequestId(r.getRequestId())
                .addAllImages(r.getImagesList()).setSeed(r.getSeed())
                .setModel(ModelInfo.newBuilder().setBundleVersion(r.getBundleVersion()));
        if (r.getSubmittedAtMs() > 0 && r.getCompletedAtMs() >= r.getSubmittedAtMs()) {
            response.setTimings(Timings.newBuilder().setTotalMs(r.getCompletedAtMs() - r.getSubmittedAtMs()));
        }
        b.setState(JobState.JOB_STATE_SUCCEEDED).setResult(response);
    }
}
