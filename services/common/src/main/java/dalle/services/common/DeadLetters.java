package dalle.services.common;

import dalle.v1.Stage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead letters as {@code dalle/v1/events.proto} specifies them: a record a stage cannot parse or process is
 * copied unchanged (same key, same value bytes, original headers kept) to {@code <source topic>-dlq}, with six
 * extra UTF-8 headers: {@value #REASON}, {@value #SOURCE_TOPIC}, {@value #SOURCE_PARTITION},
 * {@value #SOURCE_OFFSET}, {@value #STAGE} and {@value #TIMESTAMP_MS}.
 *
 * <pre>{@code
 * Parsed<ImageCodes> parsed = Topics.IMAGE_CODES.parse(record.value());
 * if (parsed instanceof Parsed.Failed<ImageCodes> f) {
 *     producer.send(DeadLetters.record(record, Stage.STAGE_DECODER, f.cause()));
 * }
 * }</pre>
 *
 * <p>The dead-letter record has no partition (the key picks it) and no timestamp (the producer's clock, so
 * retention counts from dead-lettering). If the record already carries dlq-* headers (it was replayed from a
 * dead-letter topic and failed again), they are replaced, not duplicated.
 */
public final class DeadLetters {

    /** Why it was dead-lettered: exception class and message. */
    public static final String REASON = "dlq-reason";
    /** The topic the record was read from, e.g. "image-codes". */
    public static final String SOURCE_TOPIC = "dlq-source-topic";
    /** The record's partition, decimal. */
    public static final String SOURCE_PARTITION = "dlq-source-partition";
    /** The record's offset, decimal. */
    public static final String SOURCE_OFFSET = "dlq-source-offset";
    /** The Stage enum name of the stage that gave up, e.g. "STAGE_DECODER". */
    public static final String STAGE = "dlq-stage";
    /** When it was dead-lettered, Unix epoch milliseconds, decimal. */
    public static final String TIMESTAMP_MS = "dlq-timestamp-ms";
    /** The six headers, in the order they are added. */
    public static final List<String> HEADERS = List.of(REASON, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET,
            STAGE, TIMESTAMP_MS);

    /** Longer reasons are cut to this many characters (a stack of causes can be long; headers should not be). */
    static final int MAX_REASON_CHARS = 4000;

    private DeadLetters() {
    }

    /** The dead-letter record of {@code failed}, dead-lettered now because of {@code cause}. */
    public static ProducerRecord<byte[], byte[]> record(ConsumerRecord<byte[], byte[]> failed, Stage stage,
            Throwable cause) {
        return record(failed, stage, reason(cause), System.currentTimeMillis());
    }

    /** The dead-letter record of {@code failed}, dead-lettered now, for a reason that is not an exception. */
    public static ProducerRecord<byte[], byte[]> record(ConsumerRecord<byte[], byte[]> failed, Stage stage,
            String reason) {
        return record(failed, stage, reason, System.currentTimeMillis());
    }

    /**
     * The dead-letter record of {@code failed}.
     *
     * @param failed the record as consumed, raw bytes
     * @param stage the stage that gives up: a real stage, not STAGE_UNSPECIFIED
     * @param reason why, e.g. from {@link #reason(Throwable)}; not blank; cut to 4000 characters
     * @param nowMs the dead-lettering time, Unix epoch milliseconds
     * @throws IllegalArgumentException for a record of a dead-letter topic, a blank reason or no real stage
     */
    public static ProducerRecord<byte[], byte[]> record(ConsumerRecord<byte[], byte[]> failed, Stage stage,
            String reason, long nowMs) {
        Objects.requireNonNull(failed, "failed");
        if (stage == null || stage == Stage.STAGE_UNSPECIFIED || stage == Stage.UNRECOGNIZED) {
            throw new IllegalArgumentException("stage " + stage + " is not a stage that can dead-letter a record");
        }
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("reason is blank: say why the record is dead-lettered");
        }
        String target = Topics.deadLetterTopic(failed.topic());
        RecordHeaders headers = new RecordHeaders();
        for (Header h : failed.headers()) {
            if (!HEADERS.contains(h.key())) {
                headers.add(h.key(), h.value());
            }
        }
        String cut = reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS - 3) + "..." : reason;
        headers.add(REASON, utf8(cut));
        headers.add(SOURCE_TOPIC, utf8(failed.topic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(failed.partition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(failed.offset())));
        headers.add(STAGE, utf8(stage.name()));
        headers.add(TIMESTAMP_MS, utf8(Long.toString(nowMs)));
        return new ProducerRecord<>(target, null, null, failed.key(), failed.value(), headers);
    }

    /**
     * "exception class: message", then "; caused by class: message" for up to three causes, e.g.
     * {@code "com.google.protobuf.InvalidProtocolBufferException: Protocol message contained an invalid tag (zero)."}
     */
    public static String reason(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        StringBuilder sb = new StringBuilder();
        Throwable t = cause;
        for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause() == t ? null : t.getCause()) {
            if (depth > 0) {
                sb.append("; caused by ");
            }
            sb.append(t.getClass().getName());
            if (t.getMessage() != null) {
                sb.append(": ").append(t.getMessage());
            }
        }
        return sb.toString();
    }

    /** A header's value as a string, null if absent (the last one if repeated). */
    public static String header(org.apache.kafka.common.header.Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
