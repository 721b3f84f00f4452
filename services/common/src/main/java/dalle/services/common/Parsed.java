package dalle.services.common;

/**
 * The outcome of parsing a record value with {@link ProtoSerde#parse} or {@link TopicSpec#parse}: the message,
 * or why the bytes are not one. A stage dead-letters a {@link Failed} record with {@link DeadLetters}, passing
 * {@link Failed#cause()}.
 *
 * <pre>{@code
 * Parsed<ImageCodes> parsed = Topics.IMAGE_CODES.parse(record.value());
 * if (parsed instanceof Parsed.Failed<ImageCodes> f) {
 *     producer.send(DeadLetters.record(record, Stage.STAGE_DECODER, f.cause()));
 * }
 * }</pre>
 *
 * @param <T> the message type
 */
public sealed interface Parsed<T> permits Parsed.Ok, Parsed.Failed {

    /** Whether the bytes parsed. */
    boolean isOk();

    /**
     * The message.
     *
     * @throws IllegalStateException on a failed parse, with its reason
     */
    T value();

    /** A parsed message. */
    record Ok<T>(T value) implements Parsed<T> {
        @Override
        public boolean isOk() {
            return true;
        }
    }

    /**
     * Bytes that are not a message.
     *
     * @param reason what was wrong, e.g. "5 bytes are not a valid GenerationRequest: ..."
     * @param cause the parser's exception (a SerializationException when there were no bytes at all); what
     *     {@link DeadLetters#record(org.apache.kafka.clients.consumer.ConsumerRecord, dalle.v1.Stage, Throwable)}
     *     puts in dlq-reason
     */
    record Failed<T>(String reason, Exception cause) implements Parsed<T> {
        /** Checks that reason and cause are present. */
        public Failed {
            java.util.Objects.requireNonNull(reason, "reason");
            java.util.Objects.requireNonNull(cause, "cause");
        }

        @Override
        public boolean isOk() {
            return false;
        }

        @Override
        public T value() {
            throw new IllegalStateException(reason, cause);
        }
    }
}
