package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dalle bench overload} against a stand-in gateway in this JVM: a generation takes 200 ms, 2 run at once and
 * 2 more may wait, the rest is refused with 429, as the gateway's bounded executor does. The bench must find a
 * sustainable rate, shed the excess of twice that rate, and report latencies and memory with sane values.
 */
class OverloadBenchTest {

    private HttpServer server;
    private String http;

    @BeforeEach
    void startStandIn() throws IOException {
        Semaphore admitted = new Semaphore(4);
        Semaphore running = new Semaphore(2);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(32));
        server.createContext("/v1/images/generations", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (!admitted.tryAcquire()) {
                reply(exchange, 429, "{\"error\":{\"message\":\"at its limit\"}}");
                return;
            }
            try {
                running.acquireUninterruptibly();
                try {
                    // long against the HTTP round trip (the JDK server and client add tens of ms that do not queue),
                    // so that the closed-loop probe measures the stand-in's real capacity and 2x it must be shed
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    running.release();
                }
                reply(exchange, 200, "{\"data\":[]}");
            } finally {
                admitted.release();
            }
        });
        server.createContext("/q/metrics", exchange -> reply(exchange, 200,
                "jvm_memory_used_bytes{area=\"heap\",id=\"eden\"} 1.048576E7\n"
                        + "jvm_memory_used_bytes{area=\"heap\",id=\"old\"} 1.048576E7\n"
                        + "jvm_memory_used_bytes{area=\"nonheap\",id=\"meta\"} 9.0E7\n"));
        server.createContext("/q/health/ready", exchange -> reply(exchange, 200, "{\"status\":\"UP\"}"));
        server.start();
        http = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void reply(HttpExchange exchange, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(code, b.length);
        exchange.getResponseBody().write(b);
        exchange.close();
    }

    private RunState state(Path dir) {
        return new RunState(dir.toString(), 0, new RunState.Kafka("127.0.0.1:1", 1, "kafka.log"), List.of(
                new RunState.Service("gateway", ProcessHandle.current().pid(), http + "/q/health/ready",
                        Map.of("http", http), "gateway.log")));
    }

    @Test
    void twiceTheSustainableRateIsPartlyShedAndTheReportHasLatenciesAndMemory(@TempDir Path dir) throws Exception {
        StringWriter text = new StringWriter();
        OverloadBench.Report r = new OverloadBench(new PrintWriter(text), Duration.ofSeconds(1),
                Duration.ofSeconds(2), 2, 2.0, 1).run(state(dir));

        // 2 at once, 200 ms each: at most 10/s, less with the round trip or on a busy machine
        assertTrue(r.sustainableRate() > 3 && r.sustainableRate() <= 10.5, "sustainable " + r.sustainableRate());
        assertTrue(r.unloadedP50Ms() >= 200 && r.unloadedP99Ms() >= r.unloadedP50Ms(), r.toString());
        assertEquals(2 * r.sustainableRate(), r.offeredRate(), 1e-9);
        double expected = r.offeredRate() * 2;
        assertTrue(Math.abs(r.sent() - expected) <= Math.max(3, 0.1 * expected), r.sent() + " sent, ~"
                + expected + " offered");
        assertEquals(r.sent(), r.admitted() + r.shed() + r.errors(), "every request is counted once");
        assertEquals(0, r.errors());
        assertTrue(r.shed() > 0, "twice the sustainable rate is partly shed: " + r);
        assertTrue(r.admitted() > 0 && r.admittedP50Ms() >= 200 && r.admittedP99Ms() >= r.admittedP50Ms(),
                r.toString());
        assertEquals(r.admittedP99Ms() / r.unloadedP99Ms(), r.p99Ratio(), 1e-9);
        OverloadBench.Memory m = r.memory().get("gateway");
        assertTrue(m.samples() >= 2, "sampled every second: " + m);
        assertTrue(m.rssFirst() > 10 && m.rssMax() >= m.rssLast() && m.rssMax() >= m.rssFirst(), m.toString());
        assertEquals(20.0, m.heapFirst(), 1e-9, "the heap series summed, the non-heap one not");
        String report = text.toString();
        for (String field : List.of("unloaded (sequential", "sustainable rate (2 closed-loop clients)",
                "shed (429)", "admitted latency: p50", "p99 / unloaded p99 =", "rss max", "heap max")) {
            assertTrue(report.contains(field), field + " in:\n" + report);
        }
    }

    @Test
    void theCommandUsesTheRunningStackOfItsDataFolder(@TempDir Path dir) throws Exception {
        state(dir).write(dir);
        CliRun run = CliRun.dalle("bench", "overload", "--data", dir.toString(), "--probe", "0.5", "--duration",
                "0.5", "--clients", "1", "--candidates", "1");
        assertEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.out().startsWith("bench overload: using the running stack of " + dir.toAbsolutePath()
                .normalize()), run.out());
        assertTrue(run.out().contains("admitted latency: p50"), run.out());
    }
}
