package dalle.services.common.kafka;

import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The CloudEvents 1.0 Kafka protocol binding, binary mode, on the records the services produce: the value stays the
 * protobuf bytes and the event's attributes travel as headers —
 * {@code ce_specversion} = 1.0, {@code ce_id} (a fresh UUID per record), {@code ce_type} = the payload's protobuf
 * full name (e.g. {@code dalle.v1.GenerationResult}), {@code ce_source} = {@code /dalle/<producer>} (the stage or
 * the gateway), {@code ce_time} (RFC 3339) and {@code content-type: application/protobuf}. The record key stays the
 * request id (the binding's partitioning key). A consumer that ignores headers reads the same records as before.
 */
public final class CloudEvents {

    /** CloudEvents' own version. */
    public static final String SPEC_VERSION = "1.0";
    /** The value's media type. */
    public static final String CONTENT_TYPE = "application/protobuf";

    private CloudEvents() {
    }

    /** The source of what {@code stage} produces: {@code /dalle/sampler}, {@code /dalle/gateway}, ... */
    public static String source(dalle.v1.Stage stage) {
        return "/dalle/" + stage.name().substring("STAGE_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The headers of one event carrying {@code value}, added to {@code headers} (replacing any ce_ ones). */
    public static Headers add(Headers headers, Message value, String source) {
        put(headers, "ce_specversion", SPEC_VERSION);
        put(headers, "ce_id", UUID.randomUUID().toString());
        put(headers, "ce_type", value.getDescriptorForType().getFullName());
        put(headers, "ce_source", source);
        put(headers, "ce_time", java.time.Instant.now().toString());
        put(headers, "content-type", CONTENT_TYPE);
        return headers;
    }

    /** A record of {@code value} (as its protobuf bytes) under {@code key}, with the event's headers. */
    public static <K> ProducerRecord<K, byte[]> record(String topic, K key, Message value, String source) {
        return new ProducerRecord<>(topic, null, key, value.toByteArray(), add(new RecordHeaders(), value, source));
    }

    /** The header's value as text; null when absent. */
    public static String header(Headers headers, String name) {
        var h = headers.lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
