package dalle.services.common.kafka;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * W3C trace context on Kafka records, where no auto-instrumentation reaches (the services use plain kafka-clients
 * and Kafka Streams): a producer writes {@value #TRACEPARENT} (and {@value #TRACESTATE} when there is one) next to
 * the CloudEvents headers — the same header name as CloudEvents' distributed tracing extension — and a consumer
 * makes its {@code <topic> process} span a child of it, and the records it produces children of that, so one
 * trace follows a request from the HTTP or gRPC call through every topic.
 *
 * <p>Built on the service's {@link OpenTelemetry} (Quarkus' bean); with tracing off ({@link #OFF}, or Quarkus'
 * SDK disabled) every span is a no-op and no header is written: nothing is recorded, sent or logged.
 */
public final class KafkaTracing {

    /** The W3C Trace Context header: {@code 00-<trace id>-<span id>-<flags>}. */
    public static final String TRACEPARENT = "traceparent";
    /** Vendor-specific trace state, when the caller sent one. */
    public static final String TRACESTATE = "tracestate";

    /** Tracing off: no spans, no headers. */
    public static final KafkaTracing OFF = new KafkaTracing(OpenTelemetry.noop());

    private static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
    private static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    private static final AttributeKey<String> OPERATION = AttributeKey.stringKey("messaging.operation.type");
    private static final AttributeKey<Long> PARTITION = AttributeKey.longKey(
            "messaging.destination.partition.id");
    private static final AttributeKey<Long> OFFSET = AttributeKey.longKey("messaging.kafka.offset");
    private static final AttributeKey<String> KEY = AttributeKey.stringKey("messaging.kafka.message.key");
    private static final AttributeKey<String> GROUP = AttributeKey.stringKey("messaging.consumer.group.name");

    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) {
                keys.add(h.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            return headers == null ? null : CloudEvents.header(headers, key);
        }
    };

    private static final TextMapSetter<Headers> SETTER = (headers, key, value) -> {
        headers.remove(key);
        headers.add(key, value.getBytes(StandardCharsets.UTF_8));
    };

    private final OpenTelemetry telemetry;
    private final Tracer tracer;

    public KafkaTracing(OpenTelemetry telemetry) {
        this.telemetry = telemetry;
        this.tracer = telemetry.getTracer("dalle.kafka");
    }

    /** The context a record's headers carry (the root context when they carry none). */
    public Context extract(Headers headers) {
        return telemetry.getPropagators().getTextMapPropagator().extract(Context.root(), headers, GETTER);
    }

    /** Writes {@code context}'s trace into {@code headers} (replacing any trace headers there); nothing when off. */
    public Headers inject(Context context, Headers headers) {
        headers.remove(TRACEPARENT);
        headers.remove(TRACESTATE);
        telemetry.getPropagators().getTextMapPropagator().inject(context, headers, SETTER);
        return headers;
    }

    /**
     * Starts the span of processing {@code record} in consumer group {@code group}: kind CONSUMER, named
     * {@code <topic> process}, a child of the trace the record carries (a new trace when it carries none). End it
     * when the record's outputs are sent.
     */
    public Span process(ConsumerRecord<byte[], byte[]> record, String group) {
        return tracer.spanBuilder(record.topic() + " process").setSpanKind(SpanKind.CONSUMER)
                .setParent(extract(record.headers()))
                .setAttribute(SYSTEM, "kafka").setAttribute(DESTINATION, record.topic())
                .setAttribute(OPERATION, "process").setAttribute(GROUP, group)
                .setAttribute(PARTITION, (long) record.partition()).setAttribute(OFFSET, record.offset())
                .startSpan();
    }

    /**
     * Starts the span of processing a record that Kafka Streams hands over (topic and offset are Streams' to know):
     * kind CONSUMER, named {@code <name> process}, a child of the trace in {@code headers}.
     */
    public Span process(String name, Headers headers) {
        return tracer.spanBuilder(name + " process").setSpanKind(SpanKind.CONSUMER).setParent(extract(headers))
                .setAttribute(SYSTEM, "kafka").setAttribute(OPERATION, "process").startSpan();
    }

    /**
     * Starts the span of sending one record to {@code topic} under {@code key}, a child of {@code parent}, and
     * writes it into {@code headers} (the consumer's process span becomes its child). End it when the broker
     * acknowledges ({@link #end(Span, Throwable)}).
     */
    public Span publish(Context parent, String topic, String key, Headers headers) {
        Span span = tracer.spanBuilder(topic + " publish").setSpanKind(SpanKind.PRODUCER).setParent(parent)
                .setAttribute(SYSTEM, "kafka").setAttribute(DESTINATION, topic).setAttribute(OPERATION, "send")
                .setAttribute(KEY, key).startSpan();
        inject(parent.with(span), headers);
        return span;
    }

    /** Ends {@code span}, marked as an error when {@code error} is not null. */
    public static void end(Span span, Throwable error) {
        if (error != null) {
            span.recordException(error);
            span.setStatus(StatusCode.ERROR, error.toString());
        }
        span.end();
    }
}
