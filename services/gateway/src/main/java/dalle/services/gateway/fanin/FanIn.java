package dalle.services.gateway.fanin;

import dalle.services.common.ProtoSerde;
import dalle.services.common.Topics;
import dalle.v1.CandidateScore;
import dalle.v1.GenerationContext;
import dalle.v1.GenerationEvent;
import dalle.v1.StageStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The fan-in, a Kafka Streams application: {@code candidate-scores} in, exactly one {@code GenerationResult} per
 * request out on {@code generation-results}, with the request's best {@code top_k} images (score descending, ties
 * by lower candidate index, as {@code dalle.core.pipeline.Pipeline.rank}); a FAILED {@code generation-events}
 * record of any stage fails the request instead (one failed result). Its state (which candidates arrived, the
 * best so far, which requests are done) is a RocksDB store backed by a changelog topic, so it survives restarts
 * and moves with its partitions; processing is exactly-once v2.
 *
 * <pre>
 * candidate-scores --parse--+-------------------------------------+-- fan-in (store) --+-> generation-results
 * generation-events --parse-+- FAILED -> repartition (as scores) -+                    +-> generation-events
 *                           bad records ---------------------------------------------> &lt;topic&gt;-dlq
 * </pre>
 *
 * <p>Records that are not a valid message (bytes, a missing key or one that is not the request id, a candidate index outside
 * {@code [0, candidates)}, a candidate whose candidates/top_k contradict earlier ones) go to
 * {@code <topic>-dlq} with events.proto's dlq-* headers (stage STAGE_FAN_IN), in the same transaction, and
 * processing continues. FAILED events are repartitioned to candidate-scores' partition count so a request's
 * scores and failures meet in one task. The fan-in also writes STAGE_FAN_IN events: RUNNING progress (at most
 * about once a second per request), SUCCEEDED with the result, FAILED on a passed deadline.
 *
 * <pre>{@code
 * try (FanIn fanIn = FanIn.start(StreamsSettings.of(bootstrap, "dalle-fan-in", Path.of(".dalle/fan-in")))) {
 *     ...   // runs until closed
 * }
 * }</pre>
 */
public final class FanIn implements AutoCloseable {

    /** The default application id (consumer group and internal topic prefix). */
    public static final String DEFAULT_APPLICATION_ID = "dalle-fan-in";
    /** The state store's name (its changelog is {@code <application id>-fan-in-state-changelog}). */
    public static final String STORE = "fan-in-state";
    /** How long a done marker is kept: candidate-scores' retention, so no replay can outlive it. */
    public static final Duration DONE_RETENTION = Duration.ofDays(7);
    static final Duration SWEEP_INTERVAL = Duration.ofSeconds(5);
    /** How long a request may stay pending after its submission, unless the caller says otherwise. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(30);

    private final KafkaStreams streams;

    private FanIn(KafkaStreams streams) {
        this.streams = streams;
    }

    /**
     * Starts the fan-in and waits until it runs.
     *
     * @throws IOException when the pipeline topics are missing, Kafka does not answer, or it does not reach
     *     RUNNING within the settings' start timeout
     */
    public static FanIn start(StreamsSettings settings) throws IOException {
        return start(settings, DEFAULT_MAX_AGE);
    }

    /**
     * As {@link #start(StreamsSettings)}, failing requests still pending {@code maxAge} after their submission.
     *
     * @throws IOException as above
     */
    public static FanIn start(StreamsSettings settings, Duration maxAge) throws IOException {
        int partitions = Partitions.of(settings, List.of(Topics.CANDIDATE_SCORES.name()))
                .get(Topics.CANDIDATE_SCORES.name());
        return new FanIn(StreamsRunner.start("fan-in", topology(partitions, SWEEP_INTERVAL, DONE_RETENTION, maxAge),
                settings.properties(Topics.GENERATION_RESULTS.maxMessageBytes()), settings.startTimeout()));
    }

    /**
     * The fan-in's topology.
     *
     * @param scorePartitions candidate-scores' partition count (FAILED events are repartitioned to it)
     * @param sweepInterval how often deadlines, ages and done markers are checked (wall clock)
     * @param doneRetention how long a finished request is remembered
     * @param maxAge how long after its submission a request may still be pending
     */
    public static Topology topology(int scorePartitions, Duration sweepInterval, Duration doneRetention,
            Duration maxAge) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                FanInState.serde()).withLoggingEnabled(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(Topics.GENERATION_RESULTS.maxMessageBytes()))));

        KStream<String, Item> scores = builder.stream(Topics.CANDIDATE_SCORES.name(),
                        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("candidate-scores-source"))
                .process(() -> new SourceParser<>(Topics.CANDIDATE_SCORES, CandidateScore::getRequestId,
                        FanIn::checkScore, Item.Score::new, true, true), Named.as("parse-candidate-scores"));
        KStream<String, Item> events = builder.stream(Topics.GENERATION_EVENTS.name(),
                        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("generation-events-source"))
                .process(() -> new SourceParser<>(Topics.GENERATION_EVENTS, GenerationEvent::getRequestId,
                        e -> Optional.empty(), (e, source) -> new Item.Event(e), true, false),
                        Named.as("parse-generation-events"));
        Sinks.deadLetters(scores, "candidate-scores");
        Sinks.deadLetters(events, "generation-events");

        KStream<String, Item> failures = events
                .filter((id, item) -> item instanceof Item.Event e
                        && e.event().getStatus() == StageStatus.STAGE_STATUS_FAILED, Named.as("failed-events"))
                .mapValues(item -> ((Item.Event) item).event(), Named.as("failed-event-values"))
                .repartition(Repartitioned.with(Serdes.String(), ProtoSerde.of(GenerationEvent.class))
                        .withName("failures").withNumberOfPartitions(scorePartitions))
                .mapValues(e -> (Item) new Item.Event(e), Named.as("failure-items"));

        // scores, and the failures of requests whose score could not be used (a dropped candidate fails its request)
        KStream<String, Item> out = scores.filter((id, item) -> item instanceof Item.Score
                        || item instanceof Item.Event, Named.as("scores"))
                .merge(failures, Named.as("scores-and-failures"))
                .process(() -> new FanInProcessor(STORE, sweepInterval, doneRetention, maxAge,
                        Topics.GENERATION_RESULTS.maxMessageBytes(), System::currentTimeMillis), Named.as("fan-in"),
                        STORE);
        out.filter((id, item) -> item instanceof Item.Result, Named.as("results"))
                .mapValues(item -> ((Item.Result) item).result(), Named.as("result-values"))
                .to(Topics.GENERATION_RESULTS.name(), Produced.with(Serdes.String(),
                        Topics.GENERATION_RESULTS.valueSerde()).withName("generation-results-sink"));
        out.filter((id, item) -> item instanceof Item.Event, Named.as("fan-in-events"))
                .mapValues(item -> ((Item.Event) item).event(), Named.as("fan-in-event-values"))
                .to(Topics.GENERATION_EVENTS.name(), Produced.with(Serdes.String(),
                        Topics.GENERATION_EVENTS.valueSerde()).withName("generation-events-sink"));
        Sinks.deadLetters(out, "fan-in");
        return builder.build();
    }

    /** What makes a parsed score unusable, by events.proto's limits; empty when it is fine. */
    static Optional<String> checkScore(CandidateScore s) {
        if (!s.hasContext()) {
            return Optional.of("no context");
        }
        GenerationContext c = s.getContext();
        if (c.getCandidates() < 1 || c.getCandidates() > 512) {
            return Optional.of("context.candidates " + c.getCandidates() + " is outside 1..512");
        }
        if (c.getTopK() < 1 || c.getTopK() > c.getCandidates()) {
            return Optional.of("context.top_k " + c.getTopK() + " is outside 1.." + c.getCandidates());
        }
        if (s.getCandidateIndex() < 0 || s.getCandidateIndex() >= c.getCandidates()) {
            return Optional.of("candidate_index " + s.getCandidateIndex() + " is outside [0, " + c.getCandidates()
                    + ")");
        }
        return Optional.empty();
    }

    /** The Streams state: RUNNING while it works (REBALANCING briefly when partitions move). */
    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Stops processing (committing what is done) and leaves the group; waits up to 30 s. */
    @Override
    public void close() {
        StreamsRunner.close(streams, Duration.ofSeconds(30));
    }
}
