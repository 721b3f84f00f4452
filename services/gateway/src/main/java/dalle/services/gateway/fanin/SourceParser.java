package dalle.services.gateway.fanin;

import dalle.services.common.DeadLetters;
import dalle.services.common.Parsed;
import dalle.services.common.TopicSpec;
import dalle.services.common.stage.Requests;
import dalle.v1.ErrorCode;
import dalle.v1.Failure;
import dalle.v1.GenerationEvent;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first node after a raw ({@code byte[]}) source: parses the value with the topic's {@link TopicSpec}, checks
 * it, and forwards an {@link Item} keyed by the request id, or, for bytes that are not a valid message, either a
 * {@link Item.DeadLetter} (the record unchanged plus the dlq-* headers) or nothing when this application leaves
 * dead-lettering of the topic to another one. Never throws for bad input, so processing continues.
 *
 * <p>Parsing inside the topology, rather than in a deserialization exception handler, puts the dead letter in the
 * same exactly-once transaction as the consumed offset: a bad record is dead-lettered once, even across crashes.
 *
 * @param <M> the topic's message type
 */
final class SourceParser<M> implements Processor<byte[], byte[], String, Item> {

    private static final Logger LOG = LoggerFactory.getLogger(SourceParser.class);

    private final TopicSpec<M> topic;
    private final Function<M, String> requestId;
    private final Function<M, Optional<String>> check;
    private final BiFunction<M, ConsumerRecord<byte[], byte[]>, Item> wrap;
    private final boolean deadLetter;
    private final boolean failRequests;
    private ProcessorContext<String, Item> context;

    /**
     * @param topic the source topic
     * @param requestId the message's request id (must equal the record key, which must be present)
     * @param check what is wrong with a parsed message, empty when it is usable
     * @param wrap the item of a usable message and its source record
     * @param deadLetter whether bad records go to {@code <topic>-dlq} (else they are skipped and logged)
     * @param failRequests whether a record that parsed, with its request id as its key, but that is unusable also
     *     fails its request (a FAILED event item, as a stage reports a dropped candidate); never for bytes that do
     *     not parse, whose key anyone could have written
     */
    SourceParser(TopicSpec<M> topic, Function<M, String> requestId, Function<M, Optional<String>> check,
            BiFunction<M, ConsumerRecord<byte[], byte[]>, Item> wrap, boolean deadLetter, boolean failRequests) {
        this.topic = topic;
        this.requestId = requestId;
        this.check = check;
        this.wrap = wrap;
        this.deadLetter = deadLetter;
        this.failRequests = failRequests;
    }

    @Override
    public void init(ProcessorContext<String, Item> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        ConsumerRecord<byte[], byte[]> source = source(record);
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        Parsed<M> parsed = topic.parse(record.value());
        if (parsed instanceof Parsed.Failed<M> failed) {
            reject(source, key, DeadLetters.reason(failed.cause()));
            return;
        }
        M message = parsed.value();
        String id = requestId.apply(message);
        Optional<String> problem = id.isEmpty() ? Optional.of("request_id is empty")
                : key == null ? Optional.of("the record has no key (it must be the request id, so that all records"
                        + " of a request share a partition)")
                : Requests.keyMismatch(key, id).or(() -> check.apply(message));
        if (problem.isPresent()) {
            String reason = topic.name() + " record of request '" + id + "': " + problem.get();
            reject(source, key, reason);
            if (failRequests && id.equals(key)) {
                context.forward(new Record<>(id, new Item.Event(GenerationEvent.newBuilder().setRequestId(id)
                        .setStage(Stage.STAGE_FAN_IN).setStatus(StageStatus.STAGE_STATUS_FAILED).setMessage(reason)
                        .setError(Failure.newBuilder().setCode(ErrorCode.ERROR_CODE_INVALID_ARGUMENT)
                                .setStage(Stage.STAGE_FAN_IN).setMessage("a candidate was dropped: " + reason))
                        .setTimestampMs(System.currentTimeMillis()).build()), record.timestamp(), record.headers()));
            }
            return;
        }
        // the headers go on (Streams drops those of a new Record): the fan-in carries the record's trace forward
        context.forward(new Record<>(id, wrap.apply(message, source), record.timestamp(), record.headers()));
    }

    private void reject(ConsumerRecord<byte[], byte[]> source, String key, String reason) {
        if (deadLetter) {
            context.forward(new Record<>(key, new Item.DeadLetter(DeadLetters.record(source, Stage.STAGE_FAN_IN,
                    reason, System.currentTimeMillis())), source.timestamp()));
        } else {
            LOG.warn("skipped {}-{}@{} (another application dead-letters it): {}", source.topic(),
                    source.partition(), source.offset(), reason);
        }
    }

    /** The record as a consumer saw it: what {@link DeadLetters} copies, with its position. */
    private ConsumerRecord<byte[], byte[]> source(Record<byte[], byte[]> record) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        String sourceTopic = meta.map(RecordMetadata::topic).orElse(topic.name());
        int partition = meta.map(RecordMetadata::partition).orElse(-1);
        long offset = meta.map(RecordMetadata::offset).orElse(-1L);
        return new ConsumerRecord<>(sourceTopic, partition, offset, record.timestamp(), TimestampType.CREATE_TIME,
                record.key() == null ? -1 : record.key().length,
                record.value() == null ? -1 : record.value().length, record.key(), record.value(), record.headers(),
                Optional.empty());
    }
}
