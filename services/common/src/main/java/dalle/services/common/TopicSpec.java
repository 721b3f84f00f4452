package dalle.services.common;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * One Kafka topic of the registry: its name, key and value types with their serdes, and the settings
 * {@link TopicSetup} creates it with. Every key is the request id as a UTF-8 string; the value is a
 * {@code dalle.v1} protobuf message, or the original bytes on a dead-letter topic.
 *
 * @param <V> the value type: a protobuf message class, or {@code byte[]} for a dead-letter topic
 */
public final class TopicSpec<V> {

    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    private final String name;
    private final Class<V> valueType;
    private final Serde<V> valueSerde;
    private final int partitions;
    private final Duration retention;
    private final int maxMessageBytes;

    /**
     * @param name kebab-case, 1..200 characters (Kafka's limit is 249; the "-dlq" suffix must still fit)
     * @param valueType the record value's class
     * @param valueSerde how values are written and read
     * @param partitions 1..1000
     * @param retention how long records are kept, at least one minute
     * @param maxMessageBytes the largest record batch the topic accepts, 1 KiB..100 MiB; producers must set
     *     {@code max.request.size} at least this high to use it
     */
    public TopicSpec(String name, Class<V> valueType, Serde<V> valueSerde, int partitions, Duration retention,
            int maxMessageBytes) {
        Objects.requireNonNull(name, "name");
        if (name.length() > 200 || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "topic name '" + name + "' is not kebab-case [a-z0-9-], 1..200 characters");
        }
        if (partitions < 1 || partitions > 1000) {
            throw new IllegalArgumentException("topic " + name + ": partitions " + partitions + " is outside 1..1000");
        }
        if (retention == null || retention.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("topic " + name + ": retention " + retention + " is under one minute");
        }
        if (maxMessageBytes < 1024 || maxMessageBytes > 100 << 20) {
            throw new IllegalArgumentException(
                    "topic " + name + ": maxMessageBytes " + maxMessageBytes + " is outside 1 KiB..100 MiB");
        }
        this.name = name;
        this.valueType = Objects.requireNonNull(valueType, "valueType");
        this.valueSerde = Objects.requireNonNull(valueSerde, "valueSerde");
        this.partitions = partitions;
        this.retention = retention;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** The topic's name, e.g. {@code "image-codes"}. */
    public String name() {
        return name;
    }

    /** The key type: always the request id as a String. */
    public Class<String> keyType() {
        return String.class;
    }

    /** UTF-8 string serde for the request-id key. */
    public Serde<String> keySerde() {
        return Serdes.String();
    }

    /** The value's class: a {@code dalle.v1} message, or {@code byte[]} on a dead-letter topic. */
    public Class<V> valueType() {
        return valueType;
    }

    /** The value serde ({@link ProtoSerde} for a protobuf topic). */
    public Serde<V> valueSerde() {
        return valueSerde;
    }

    /** Partitions the topic is created with (never decreased by {@link TopicSetup}). */
    public int partitions() {
        return partitions;
    }

    /** How long records are kept ({@code retention.ms}). */
    public Duration retention() {
        return retention;
    }

    /** The topic's {@code max.message.bytes}. */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /**
     * A record value of this topic, parsed without throwing for bad input: a stage consumes {@code byte[]} and
     * dead-letters what comes back {@link Parsed.Failed}. On a dead-letter topic every non-null value is Ok.
     */
    @SuppressWarnings("unchecked")
    public Parsed<V> parse(byte[] value) {
        if (valueSerde instanceof ProtoSerde<?> proto) {
            return (Parsed<V>) proto.parse(value);
        }
        if (value == null) {
            String reason = "no value (null) on " + name;
            return new Parsed.Failed<>(reason, new SerializationException(reason));
        }
        try {
            return new Parsed.Ok<>(valueSerde.deserializer().deserialize(name, value));
        } catch (SerializationException e) {
            return new Parsed.Failed<>(e.getMessage(), e);
        }
    }

    /** Whether this is a {@code <topic>-dlq} topic. */
    public boolean isDeadLetter() {
        return Topics.isDeadLetterTopic(name);
    }

    /** The topic-level configs {@link TopicSetup} sets and checks, in a stable order. */
    public Map<String, String> configs() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
        c.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
        c.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes));
        return c;
    }

    @Override
    public String toString() {
        return name + " (" + valueType.getSimpleName() + ", " + partitions + " partitions, retention "
                + Topics.humanDuration(retention) + ")";
    }
}
