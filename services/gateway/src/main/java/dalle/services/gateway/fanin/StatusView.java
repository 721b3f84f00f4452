package dalle.services.gateway.fanin;

import dalle.services.common.ProtoSerde;
import dalle.services.common.Topics;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import dalle.v1.Job;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The request-status view: a Kafka Streams application folding {@code generation-events} and
 * {@code generation-results} into one {@link Job} per request id (state, latest event, images or failure), kept
 * in a queryable store backed by a changelog topic. The gateway embeds it for {@code GetJob}.
 *
 * <pre>{@code
 * try (StatusView view = StatusView.start(StreamsSettings.of(bootstrap, "dalle-status-view", dir))) {
 *     Optional<Job> job = view.get("req-42");   // empty: no event or result seen for that id
 * }
 * }</pre>
 *
 * <p>Limits: an instance answers for the partitions it owns. Instances sharing an application id split the
 * requests between them; an instance that must answer for every request (one gateway among several) uses an
 * application id of its own. Bad results are dead-lettered to {@code generation-results-dlq}; bad events are
 * skipped here, since the fan-in dead-letters them (once). events and results must have the same partition
 * count (the registry gives both 3); {@link #start} checks it.
 */
public final class StatusView implements AutoCloseable {

    /** The default application id. */
    public static final String DEFAULT_APPLICATION_ID = "dalle-status-view";
    /** The store's name. */
    public static final String STORE = "job-status";
    /** How long a finished job stays readable, unless the caller says otherwise (gateway.proto's GetJob). */
    public static final Duration DEFAULT_RETENTION = Duration.ofHours(24);

    private final KafkaStreams streams;

    private StatusView(KafkaStreams streams) {
        this.streams = streams;
    }

    /**
     * Starts the view and waits until it runs (its store then answers {@link #get}).
     *
     * @throws IOException when the topics are missing or not co-partitioned, Kafka does not answer, or it does
     *     not reach RUNNING within the settings' start timeout
     */
    public static StatusView start(StreamsSettings settings) throws IOException {
        return start(settings, DEFAULT_RETENTION);
    }

    /**
     * As {@link #start(StreamsSettings)}, forgetting jobs finished (or silent) for longer than {@code retention}.
     *
     * @throws IOException as above
     */
    public static StatusView start(StreamsSettings settings, Duration retention) throws IOException {
        String events = Topics.GENERATION_EVENTS.name();
        String results = Topics.GENERATION_RESULTS.name();
        Map<String, Integer> counts = Partitions.of(settings, List.of(events, results));
        if (!counts.get(events).equals(counts.get(results))) {
            throw new IOException("the status view needs " + events + " and " + results
                    + " to have the same partition count (a request's events and result in one task); they have "
                    + counts);
        }
        return new StatusView(StreamsRunner.start("status view", topology(retention, System::currentTimeMillis),
                settings.properties(Topics.GENERATION_RESULTS.maxMessageBytes()), settings.startTimeout()));
    }

    /**
     * The view's topology: both topics parsed, merged, folded per request id into the store; jobs finished or
     * silent for longer than {@code retention} (by {@code clock}) are deleted.
     */
    public static Topology topology(Duration retention, LongSupplier clock) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                ProtoSerde.of(Job.class)).withLoggingEnabled(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(Topics.GENERATION_RESULTS.maxMessageBytes()))));
        KStream<String, Item> events = builder.stream(Topics.GENERATION_EVENTS.name(),
                        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("generation-events-source"))
                .process(() -> new SourceParser<>(Topics.GENERATION_EVENTS, GenerationEvent::getRequestId,
                        e -> Optional.empty(), (e, source) -> new Item.Event(e), false, false),
                        Named.as("parse-generation-events"));
        KStream<String, Item> results = builder.stream(Topics.GENERATION_RESULTS.name(),
                        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("generation-results-source"))
                .process(() -> new SourceParser<>(Topics.GENERATION_RESULTS, GenerationResult::getRequestId,
                        r -> Optional.empty(), (r, source) -> new Item.Result(r), true, false),
                        Named.as("parse-generation-results"));
        Sinks.deadLetters(results, "generation-results");
        events.merge(results, Named.as("events-and-results"))
                .filter((id, item) -> !(item instanceof Item.DeadLetter), Named.as("parsed"))
                .process(() -> new JobStatusProcessor(STORE, retention, clock), Named.as("job-status"), STORE);
        return builder.build();
    }

    /**
     * The request's job as this instance knows it: empty when no event or result of that id has been seen (or
     * another instance owns its partition).
     *
     * @throws IllegalStateException while the view is not RUNNING (starting, rebalancing, closed): retry later
     */
    public Optional<Job> get(String requestId) {
        Objects.requireNonNull(requestId, "requestId");
        try {
            ReadOnlyKeyValueStore<String, Job> store = streams.store(
                    StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.keyValueStore()));
            return Optional.ofNullable(store.get(requestId));
        } catch (InvalidStateStoreException e) {
            throw new IllegalStateException("the status view cannot be queried now (state " + streams.state()
                    + "): " + e.getMessage(), e);
        }
    }

    /**
     * The {@code application.server} (host:port) of the instance whose store holds {@code requestId}; empty when
     * that is this instance or the view runs without {@code application.server} (one instance answers for all).
     *
     * @throws IllegalStateException while the group is rebalancing (no owner known): retry later
     */
    public Optional<String> remoteOwner(String requestId, String self) {
        if (self == null) {
            return Optional.empty();
        }
        KeyQueryMetadata m = streams.queryMetadataForKey(STORE, requestId, Serdes.String().serializer());
        if (m == null || m.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
            throw new IllegalStateException("the status view does not know which gateway holds '" + requestId
                    + "' now (state " + streams.state() + ", rebalancing)");
        }
        String owner = m.activeHost().host() + ":" + m.activeHost().port();
        return owner.equals(self) ? Optional.empty() : Optional.of(owner);
    }

    /**
     * The jobs this instance holds whose id starts with {@code prefix} (every job for an empty prefix) and that come
     * after {@code after} in {@code order}, the first {@code limit} of them in that order.
     *
     * @throws IllegalStateException while the view is not RUNNING: retry later
     */
    public List<Job> list(String prefix, Predicate<Job> after, Comparator<Job> order,
            int limit) {
        PriorityQueue<Job> kept = new PriorityQueue<>(order.reversed());
        try {
            ReadOnlyKeyValueStore<String, Job> store = streams.store(
                    StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.keyValueStore()));
            // ids under a prefix: the range [prefix, prefix + U+FFFF] (ids are ASCII)
            try (var it = prefix.isEmpty() ? store.all() : store.range(prefix, prefix + Character.MAX_VALUE)) {
                while (it.hasNext()) {
                    Job job = it.next().value;
                    if (job != null && after.test(job)) {
                        kept.add(job);
                        if (kept.size() > limit) {
                            kept.poll();                                      // the last in order goes
                        }
                    }
                }
            }
        } catch (InvalidStateStoreException e) {
            throw new IllegalStateException("the status view cannot be queried now (state " + streams.state()
                    + "): " + e.getMessage(), e);
        }
        List<Job> page = new ArrayList<>(kept);
        page.sort(order);
        return page;
    }

    /**
     * The {@code application.server} addresses of the view's other instances (those that hold part of the store);
     * empty when {@code self} is null (one instance answers for all).
     */
    public Set<String> otherInstances(String self) {
        if (self == null) {
            return Set.of();
        }
        Set<String> others = new TreeSet<>();
        for (var client : streams.metadataForAllStreamsClients()) {
            String address = client.hostInfo().host() + ":" + client.hostInfo().port();
            if (client.stateStoreNames().contains(STORE) && !address.equals(self)) {
                others.add(address);
            }
        }
        return others;
    }

    /** The Streams state: RUNNING while it answers. */
    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Stops the view and leaves the group; waits up to 30 s. */
    @Override
    public void close() {
        StreamsRunner.close(streams, Duration.ofSeconds(30));
    }
}
