package dalle.services.gateway.fanin;

import dalle.services.common.DeadLetters;
import dalle.services.common.kafka.CloudEvents;
import dalle.services.common.kafka.KafkaTracing;
import dalle.v1.CandidateScore;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationContext;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import dalle.v1.RankedImage;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The fan-in of one task: counts each request's distinct candidate scores in the store (key = request id) and,
 * when all {@code context.candidates} are in, forwards exactly one successful {@link GenerationResult} with the
 * best {@code top_k} plus a SUCCEEDED {@link GenerationEvent}; a FAILED event of any stage, or a passed deadline,
 * gives one failed result instead. Afterwards the request is marked done, so replays and late duplicates emit
 * nothing. Runs under exactly-once, so the store, the outputs and the consumed offsets commit together.
 *
 * <p>No request waits forever: a wall-clock sweep (every {@code sweepInterval}) fails, with DEADLINE_EXCEEDED,
 * pending requests whose deadline passed or that are older than {@code maxAge} (from their submission), and forgets
 * done markers older than {@code doneRetention}. A candidate that is dropped anywhere fails its request: the stages
 * report their drops as FAILED events, and the fan-in fails the request of a score it cannot use. A result that would
 * not fit generation-results fails its request (RESOURCE_EXHAUSTED) instead of stopping the fan-in.
 */
final class FanInProcessor implements Processor<String, Item, String, Item> {

    /** At most one RUNNING progress event per request per this many ms (events.proto: about once a second). */
    static final long PROGRESS_INTERVAL_MS = 1000;

    /** Room left in a generation-results record for everything but the images. */
    static final int RESULT_OVERHEAD_BYTES = 64 << 10;

    private final String storeName;
    private final Duration sweepInterval;
    private final Duration doneRetention;
    private final Duration maxAge;
    private final int maxResultBytes;
    private final LongSupplier clock;
    private ProcessorContext<String, Item> context;
    private KeyValueStore<String, FanInState> store;
    /** The headers of the record being processed (its trace goes on to what it causes); null in a sweep. */
    private Headers processing;

    /**
     * @param maxAge how long after its submission a request may still be pending
     * @param maxResultBytes the largest result record generation-results takes
     */
    FanInProcessor(String storeName, Duration sweepInterval, Duration doneRetention, Duration maxAge,
            int maxResultBytes, LongSupplier clock) {
        this.storeName = storeName;
        this.sweepInterval = sweepInterval;
        this.doneRetention = doneRetention;
        this.maxAge = maxAge;
        this.maxResultBytes = maxResultBytes;
        this.clock = clock;
    }

    @Override
    public void init(ProcessorContext<String, Item> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        context.schedule(sweepInterval, PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, Item> record) {
        processing = record.headers();
        try {
            if (record.value() instanceof Item.Score s) {
                onScore(record.key(), s);
            } else if (record.value() instanceof Item.Event e) {
                onFailure(record.key(), e.event());
            } else {
                throw new IllegalArgumentException("the fan-in got a " + record.value().getClass().getSimpleName()
                        + " for " + record.key());
            }
        } finally {
            processing = null;
        }
    }

    private void onScore(String id, Item.Score item) {
        CandidateScore score = item.score();
        FanInState state = store.get(id);
        if (state != null && state.isDone()) {
            return; // a late duplicate: the result is out
        }
        GenerationContext ctx = score.getContext();
        if (state == null) {
            state = FanInState.pending(ctx);
        } else if (state.context().getCandidates() != ctx.getCandidates()
                || state.context().getTopK() != ctx.getTopK()) {
            String reason = "candidate " + score.getCandidateIndex() + " of request '" + id + "' says candidates "
                    + ctx.getCandidates() + ", top_k " + ctx.getTopK() + "; earlier candidates said "
                    + state.context().getCandidates() + ", " + state.context().getTopK();
            context.forward(new Record<>(id, new Item.DeadLetter(DeadLetters.record(item.source(), Stage.STAGE_FAN_IN,
                    reason, clock.getAsLong())), clock.getAsLong()));
            // the candidate is dropped, so the request cannot complete: it fails now
            fail(id, state.context(), Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_INVALID_ARGUMENT)
                    .setStage(Stage.STAGE_FAN_IN).setMessage("a candidate was dropped: " + reason).build());
            return;
        }
        long now = clock.getAsLong();
        if (ctx.hasDeadlineMs() && now > ctx.getDeadlineMs()) {
            failDeadline(id, state.context(), now);
            return;
        }
        if (state.hasSeen(score.getCandidateIndex())) {
            return; // a redelivered candidate counts once
        }
        state = state.with(score.getCandidateIndex(), score.getScore(), score.getImage());
        if (state.imageBytes() > maxResultBytes - RESULT_OVERHEAD_BYTES) {
            // the kept images no longer fit a result (nor the store's changelog): the request fails, the fan-in goes on
            fail(id, ctx, Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED)
                    .setStage(Stage.STAGE_FAN_IN).setMessage("the best " + ctx.getTopK() + " images take "
                            + state.imageBytes() + " bytes, more than a generation-results record takes ("
                            + (maxResultBytes - RESULT_OVERHEAD_BYTES) + "); ask for fewer images (top_k)").build());
            return;
        }
        int total = ctx.getCandidates();
        if (state.count() == total) {
            forward(id, new Item.Result(success(id, state, now)), now);
            forward(id, new Item.Event(event(id, StageStatus.STAGE_STATUS_SUCCEEDED, total, total, now)
                    .setMessage("result written").build()), now);
            store.put(id, FanInState.done(now));
            return;
        }
        if (now - state.lastProgressMs() >= PROGRESS_INTERVAL_MS) {
            forward(id, new Item.Event(event(id, StageStatus.STAGE_STATUS_RUNNING, state.count(), total, now)
                    .build()), now);
            state = state.withLastProgress(now);
        }
        store.put(id, state);
    }

    private void onFailure(String id, GenerationEvent event) {
        FanInState state = store.get(id);
        if (state != null && state.isDone()) {
            return;
        }
        Failure failure = event.hasError() ? event.getError() : Failure.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_INTERNAL).setStage(event.getStage())
                .setMessage(event.getMessage().isEmpty() ? event.getStage() + " failed the request"
                        : event.getMessage())
                .build();
        long now = clock.getAsLong();
        forward(id, new Item.Result(failed(id, state == null ? null : state.context(), failure, now)), now);
        store.put(id, FanInState.done(now));
    }

    /** Fails a pending request: the failed result, a FAILED fan-in event, the done marker. */
    private void fail(String id, GenerationContext ctx, Failure failure) {
        long now = clock.getAsLong();
        forward(id, new Item.Result(failed(id, ctx, failure, now)), now);
        forward(id, new Item.Event(event(id, StageStatus.STAGE_STATUS_FAILED, 0, ctx == null ? 0 : ctx.getCandidates(),
                now).setMessage(failure.getMessage()).setError(failure).build()), now);
        store.put(id, FanInState.done(now));
    }

    private void failDeadline(String id, GenerationContext ctx, long now) {
        fail(id, ctx, Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED).setStage(Stage.STAGE_FAN_IN)
                .setMessage("deadline " + ctx.getDeadlineMs() + " passed with candidates missing").build());
    }

    /** Whether a pending request is past its deadline or older than the longest a request may take. */
    private boolean late(GenerationContext ctx, long now) {
        return ctx.hasDeadlineMs() && now > ctx.getDeadlineMs()
                || ctx.getSubmittedAtMs() > 0 && now - ctx.getSubmittedAtMs() > maxAge.toMillis();
    }

    /** Fails pending requests past their deadline or their maximum age; forgets old done markers. */
    void sweep(long now) {
        List<KeyValue<String, FanInState>> due = new ArrayList<>();
        try (KeyValueIterator<String, FanInState> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, FanInState> kv = all.next();
                FanInState s = kv.value;
                boolean expired = s.isDone() && now - s.doneAtMs() > doneRetention.toMillis();
                if (expired || !s.isDone() && late(s.context(), now)) {
                    due.add(kv);
                }
            }
        }
        for (KeyValue<String, FanInState> kv : due) {
            GenerationContext ctx = kv.value.context();
            if (kv.value.isDone()) {
                store.delete(kv.key);
            } else if (ctx.hasDeadlineMs() && now > ctx.getDeadlineMs()) {
                failDeadline(kv.key, ctx, now);
            } else {
                fail(kv.key, ctx, Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)
                        .setStage(Stage.STAGE_FAN_IN).setMessage("not complete " + maxAge.toSeconds() + " s after it"
                                + " was submitted (dalle.gateway.max-request-age); " + kv.value.count() + " of "
                                + ctx.getCandidates() + " candidates arrived").build());
            }
        }
    }

    /**
     * Forwards a result or an event with its CloudEvents headers (the same for every record it produces) and the
     * trace of the record that caused it (the last candidate's score, or the failure; none from a sweep).
     */
    private void forward(String id, Item item, long timestamp) {
        Headers headers = new RecordHeaders();
        if (processing != null) {
            for (String trace : List.of(KafkaTracing.TRACEPARENT, KafkaTracing.TRACESTATE)) {
                var h = processing.lastHeader(trace);
                if (h != null) {
                    headers.add(trace, h.value());
                }
            }
        }
        if (item instanceof Item.Result r) {
            CloudEvents.add(headers, r.result(), CloudEvents.source(Stage.STAGE_FAN_IN));
        } else if (item instanceof Item.Event e) {
            CloudEvents.add(headers, e.event(), CloudEvents.source(Stage.STAGE_FAN_IN));
        }
        context.forward(new Record<>(id, item, timestamp, headers));
    }

    static GenerationResult success(String id, FanInState state, long now) {
        GenerationContext ctx = state.context();
        GenerationResult.Builder b = base(id, ctx, now);
        int rank = 1;
        for (FanInState.Ranked r : state.best()) {
            b.addImages(RankedImage.newBuilder().setRank(rank++).setCandidateIndex(r.index()).setScore(r.score())
                    .setImage(r.image()));
        }
        return b.build();
    }

    static GenerationResult failed(String id, GenerationContext ctx, Failure failure, long now) {
        return base(id, ctx, now).setError(failure).build();
    }

    private static GenerationResult.Builder base(String id, GenerationContext ctx, long now) {
        GenerationResult.Builder b = GenerationResult.newBuilder().setRequestId(id).setCompletedAtMs(now);
        if (ctx != null) {
            b.setCaption(ctx.getCaption()).setSeed(ctx.getSeed()).setBundleVersion(ctx.getBundleVersion())
                    .setSubmittedAtMs(ctx.getSubmittedAtMs());
        }
        return b;
    }

    private static GenerationEvent.Builder event(String id, StageStatus status, int done, int total, long now) {
        return GenerationEvent.newBuilder().setRequestId(id).setStage(Stage.STAGE_FAN_IN).setStatus(status)
                .setCandidatesDone(done).setCandidatesTotal(total).setTimestampMs(now);
    }
}
