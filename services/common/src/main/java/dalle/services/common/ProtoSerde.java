package dalle.services.common;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serializer, deserializer and serde of one {@code dalle.v1} message type, in protobuf binary form.
 *
 * <p>Bad bytes must not stop a stage, and the stage must be able to dead-letter them unchanged. So a stage
 * consumes {@code byte[]} values and calls {@link #parse(byte[])}, which never throws for bad input: it returns
 * {@link Parsed.Failed} with the reason, and the stage hands the raw record to {@link DeadLetters}. Used as a
 * consumer's value deserializer instead, {@link #deserialize} throws {@link SerializationException} naming the
 * topic and type (the consumer then fails the poll with a {@code RecordDeserializationException}).
 *
 * <p>A null value (a tombstone) serializes and deserializes as null, as Kafka expects; {@link #parse} reports
 * it as a failure, since no pipeline topic carries tombstones. Unknown fields (from a newer producer) are kept,
 * not rejected; but a KNOWN field number on the wire with another wire type than its declared type (e.g. a
 * length-delimited {@code candidates}, or another message's bytes whose field numbers collide) is a failure:
 * protobuf would silently keep it as an unknown field and leave the field at its default.
 *
 * @param <T> the message type
 */
public final class ProtoSerde<T extends Message> implements Serializer<T>, Deserializer<T>, Serde<T> {

    private final Class<T> type;
    private final Parser<T> parser;

    private ProtoSerde(Class<T> type, Parser<T> parser) {
        this.type = type;
        this.parser = parser;
    }

    /**
     * The serde of a generated message class, e.g. {@code ProtoSerde.of(GenerationRequest.class)}.
     *
     * @throws IllegalArgumentException when {@code type} is not a generated message class
     */
    @SuppressWarnings("unchecked")
    public static <T extends Message> ProtoSerde<T> of(Class<T> type) {
        Objects.requireNonNull(type, "type");
        try {
            Message defaultInstance = (Message) type.getMethod("getDefaultInstance").invoke(null);
            return new ProtoSerde<>(type, (Parser<T>) defaultInstance.getParserForType());
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException(type.getName() + " is not a generated protobuf message class", e);
        }
    }

    /** The message type. */
    public Class<T> type() {
        return type;
    }

    /** The message's bytes; null for null. */
    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : data.toByteArray();
    }

    /**
     * The message; null for null.
     *
     * @throws SerializationException when the bytes are not a {@code T}; the message names topic, type and size
     */
    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        Parsed<T> parsed = parse(data);
        if (parsed instanceof Parsed.Failed<T> failed) {
            throw new SerializationException("record on " + topic + ": " + failed.reason(), failed.cause());
        }
        return parsed.value();
    }

    /** Parses without throwing for bad input: {@link Parsed.Ok} with the message, or {@link Parsed.Failed}. */
    public Parsed<T> parse(byte[] data) {
        if (data == null) {
            String reason = "no value (null) where a " + type.getSimpleName() + " was expected";
            return new Parsed.Failed<>(reason, new SerializationException(reason));
        }
        try {
            T message = parser.parseFrom(data);
            java.util.Optional<String> wrong = wrongWireType(message, "");
            if (wrong.isPresent()) {
                String reason = data.length + " bytes are not a valid " + type.getSimpleName() + ": "
                        + wrong.get();
                return new Parsed.Failed<>(reason, new SerializationException(reason));
            }
            return new Parsed.Ok<>(message);
        } catch (InvalidProtocolBufferException e) {
            return new Parsed.Failed<>(data.length + " bytes are not a valid " + type.getSimpleName() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The first field (depth first, with its path) that arrived with a wire type other than its declaration's,
     * so that protobuf kept it among the unknown fields.
     */
    static java.util.Optional<String> wrongWireType(com.google.protobuf.Message m, String prefix) {
        var descriptor = m.getDescriptorForType();
        for (var e : m.getUnknownFields().asMap().entrySet()) {
            var field = descriptor.findFieldByNumber(e.getKey());
            if (field != null) {
                return java.util.Optional.of("field " + e.getKey() + " (" + prefix + field.getName() + ", "
                        + field.getType().name().toLowerCase(java.util.Locale.ROOT) + ") has the wrong wire type "
                        + wireTypes(e.getValue()));
            }
        }
        for (var f : m.getAllFields().entrySet()) {
            if (f.getKey().getJavaType() != com.google.protobuf.Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            java.util.List<?> values = f.getKey().isRepeated() ? (java.util.List<?>) f.getValue()
                    : java.util.List.of(f.getValue());
            for (Object v : values) {
                var nested = wrongWireType((com.google.protobuf.Message) v, prefix + f.getKey().getName() + ".");
                if (nested.isPresent()) {
                    return nested;
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static String wireTypes(com.google.protobuf.UnknownFieldSet.Field f) {
        java.util.List<String> kinds = new java.util.ArrayList<>();
        if (!f.getVarintList().isEmpty()) {
            kinds.add("varint");
        }
        if (!f.getFixed32List().isEmpty()) {
            kinds.add("fixed32");
        }
        if (!f.getFixed64List().isEmpty()) {
            kinds.add("fixed64");
        }
        if (!f.getLengthDelimitedList().isEmpty()) {
            kinds.add("length-delimited");
        }
        if (!f.getGroupList().isEmpty()) {
            kinds.add("group");
        }
        return String.join("/", kinds);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    /** Nothing to configure: the type is fixed at construction. */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
    }

    /** Nothing to release. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "ProtoSerde(" + type.getName() + ")";
    }
}
