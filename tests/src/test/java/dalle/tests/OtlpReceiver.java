package dalle.tests;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * A tiny OTLP/HTTP trace receiver (protobuf bodies on {@code POST /v1/traces}, as a collector takes them) on a
 * free loopback port: what the services export, span by span, with the service that sent it.
 */
final class OtlpReceiver implements AutoCloseable {

    /** One received span: its service ({@code service.name}), ids in hex ("" parent = a root), name and kind. */
    record Received(String service, String traceId, String spanId, String parentId, String name, Span.SpanKind kind) {
        @Override
        public String toString() {
            return service + ":" + kind.name().substring("SPAN_KIND_".length()) + " '" + name + "' " + spanId
                    + (parentId.isEmpty() ? " (root)" : " <- " + parentId);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "otlp-receiver");
        t.setDaemon(true);
        return t;
    });
    private final List<Received> spans = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    private OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::export);
        server.setExecutor(executor);
        server.start();
    }

    static OtlpReceiver start() throws IOException {
        return new OtlpReceiver();
    }

    /** The JVM options that point a service at this receiver, exporting every 100 ms. */
    List<String> jvmOptions() {
        return List.of("-Dquarkus.otel.exporter.otlp.endpoint=http://127.0.0.1:" + server.getAddress().getPort(),
                "-Dquarkus.otel.exporter.otlp.protocol=http/protobuf", "-Dquarkus.otel.bsp.schedule.delay=100ms");
    }

    private void export(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("POST") || !exchange.getRequestURI().getPath().endsWith(
                    "/v1/traces")) {
                errors.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            InputStream body = exchange.getRequestBody();
            if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                body = new GZIPInputStream(body);
            }
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body);
            HexFormat hex = HexFormat.of();
            for (ResourceSpans rs : request.getResourceSpansList()) {
                String service = rs.getResource().getAttributesList().stream()
                        .filter(kv -> kv.getKey().equals("service.name")).map(KeyValue::getValue)
                        .map(v -> v.getStringValue()).findFirst().orElse("?");
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    for (Span s : ss.getSpansList()) {
                        spans.add(new Received(service, hex.formatHex(s.getTraceId().toByteArray()),
                                hex.formatHex(s.getSpanId().toByteArray()),
                                hex.formatHex(s.getParentSpanId().toByteArray()), s.getName(), s.getKind()));
                    }
                }
            }
            byte[] ok = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
            if (ok.length > 0) {
                exchange.getResponseBody().write(ok);
            }
        } catch (IOException | RuntimeException e) {
            errors.add(e.toString());
            throw e;
        }
    }

    /** Every span received so far. */
    List<Received> spans() {
        return List.copyOf(spans);
    }

    /** The spans of one trace received so far. */
    List<Received> trace(String traceId) {
        return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
    }

    /** A Kafka record's {@code traceparent} header; null when it has none. */
    static String traceparent(org.apache.kafka.common.header.Headers headers) {
        var h = headers.lastHeader("traceparent");
        return h == null ? null : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The trace id of the one root span (no parent) of kind SERVER named {@code name} that {@code service} exported.
     *
     * @throws AssertionError when none arrives within {@code timeout}, or there are several
     */
    String awaitRoot(String service, String name, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        List<Received> roots = List.of();
        while (System.nanoTime() < end && roots.isEmpty()) {
            Thread.sleep(100);
            roots = spans.stream().filter(s -> s.parentId().isEmpty() && s.kind() == Span.SpanKind.SPAN_KIND_SERVER
                    && s.service().endsWith(service) && s.name().equals(name)).toList();
        }
        if (roots.size() != 1) {
            throw new AssertionError(roots.size() + " root spans '" + name + "' of the " + service + " within "
                    + timeout.toSeconds() + " s: " + roots + "; roots seen: " + spans.stream()
                    .filter(s -> s.parentId().isEmpty()).toList());
        }
        return roots.get(0).traceId();
    }

    /**
     * Waits until trace {@code traceId} is one tree: a single root, the {@code rootName} SERVER span of the
     * gateway, every other span's parent in the trace, and spans of every one of {@code services}.
     *
     * @return the trace's spans
     * @throws AssertionError saying what is missing when that does not happen within {@code timeout}
     */
    List<Received> awaitTree(String traceId, String rootName, List<String> services, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        String problem;
        List<Received> trace;
        do {
            Thread.sleep(100);
            trace = trace(traceId);
            problem = treeProblem(trace, rootName, services);
        } while (problem != null && System.nanoTime() < end);
        if (problem != null) {
            throw new AssertionError("trace " + traceId + " " + problem + " after " + timeout.toSeconds() + " s; its "
                    + trace.size() + " spans: " + trace);
        }
        return trace;
    }

    /** What keeps {@code trace} from being one tree rooted at {@code rootName} over every service; null if nothing. */
    static String treeProblem(List<Received> trace, String rootName, List<String> services) {
        List<Received> roots = trace.stream().filter(s -> s.parentId().isEmpty()).toList();
        if (roots.size() != 1) {
            return "has " + roots.size() + " roots " + roots;
        }
        Received root = roots.get(0);
        if (!root.service().endsWith("gateway") || root.kind() != Span.SpanKind.SPAN_KIND_SERVER
                || !root.name().equals(rootName)) {
            return "is rooted at " + root + ", not the gateway's '" + rootName + "' server span";
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        trace.forEach(s -> ids.add(s.spanId()));
        for (Received s : trace) {
            if (!s.parentId().isEmpty() && !ids.contains(s.parentId())) {
                return "has " + s + " whose parent is not in the trace";
            }
        }
        for (String service : services) {
            if (trace.stream().noneMatch(s -> s.service().endsWith(service))) {
                return "has no span of the " + service;
            }
        }
        return null;
    }

    /** Requests it could not take (wrong path, a body that did not parse); empty when all were fine. */
    List<String> errors() {
        return List.copyOf(errors);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
