package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloading a pinned npm tarball from a local registry: verified, cached, and every failure said plainly. */
class NpmTarballsTest {

    @TempDir Path dir;

    private HttpServer server;
    private final AtomicInteger tarballRequests = new AtomicInteger();
    private volatile byte[] served = "the real tarball bytes".getBytes(StandardCharsets.UTF_8);
    private volatile String reportedIntegrity;
    private final List<String> log = new ArrayList<>();

    static String integrity(byte[] bytes) throws Exception {
        return "sha512-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-512").digest(bytes));
    }

    @BeforeEach
    void startRegistry() throws Exception {
        reportedIntegrity = integrity(served);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        server.createContext("/pkg/1.0.0", exchange -> {
            byte[] body = ("{\"name\":\"pkg\",\"version\":\"1.0.0\",\"dist\":{\"tarball\":\"" + base
                    + "/pkg/-/pkg-1.0.0.tgz\",\"integrity\":\"" + reportedIntegrity + "\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/pkg/-/pkg-1.0.0.tgz", exchange -> {
            tarballRequests.incrementAndGet();
            exchange.sendResponseHeaders(200, served.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(served);
            }
        });
        server.start();
    }

    @AfterEach
    void stopRegistry() {
        server.stop(0);
    }

    private NpmTarballs npm() {
        return new NpmTarballs(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), dir.resolve("cache"),
                log::add);
    }

    private NpmTarballs.Pin pin() throws Exception {
        return new NpmTarballs.Pin("pkg", "1.0.0", integrity("the real tarball bytes".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void downloadsVerifiesAndThenReusesTheCachedTarball() throws Exception {
        Path file = npm().fetch(pin());
        assertEquals("the real tarball bytes", Files.readString(file));
        assertEquals(1, tarballRequests.get());
        assertTrue(log.stream().anyMatch(l -> l.contains("integrity verified")), log.toString());

        assertEquals(file, npm().fetch(pin()));
        assertEquals(1, tarballRequests.get(), "the second fetch reads the cache");
        assertTrue(log.get(log.size() - 1).contains("cached"), log.toString());
    }

    @Test
    void bytesThatDoNotHashToThePinAreRefusedAndNotKept() throws Exception {
        served = "tampered bytes".getBytes(StandardCharsets.UTF_8);
        NpmTarballs.Pin pin = pin(); // the registry still reports the pinned integrity
        reportedIntegrity = pin.integrity();
        IOException e = assertThrows(IOException.class, () -> npm().fetch(pin));
        assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains(pin.integrity()),
                e.getMessage());
        try (var files = Files.list(dir.resolve("cache"))) {
            assertEquals(0, files.count(), "nothing is left in the cache");
        }
    }

    @Test
    void aRegistryThatReportsAnotherIntegrityIsRefusedBeforeDownloading() throws Exception {
        reportedIntegrity = integrity("something else".getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> npm().fetch(pin()));
        assertTrue(e.getMessage().contains("refusing a changed package"), e.getMessage());
        assertEquals(0, tarballRequests.get());
    }

    @Test
    void anUnknownVersionAndAnUnreachableRegistryAreSaidPlainly() throws Exception {
        IOException missing = assertThrows(IOException.class,
                () -> npm().fetch(new NpmTarballs.Pin("pkg", "9.9.9", pin().integrity())));
        assertTrue(missing.getMessage().contains("HTTP 404"), missing.getMessage());

        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        NpmTarballs offline = new NpmTarballs(URI.create("http://127.0.0.1:" + closed), dir.resolve("cache"), log::add);
        IOException e = assertThrows(IOException.class, () -> offline.fetch(pin()));
        assertTrue(e.getMessage().contains("cannot reach") && e.getMessage().contains("offline"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("cache").resolve(pin().fileName())));
    }

    @Test
    void dataEmojiOfflineFailsWithOneClearLine() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        CliRun r = CliRun.dalle("data", "emoji", "--out", dir.resolve("emoji").toString(), "--cache",
                dir.resolve("cache").toString(), "--registry", "http://127.0.0.1:" + closed);
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("cannot reach"), r.err());
        assertFalse(Files.exists(dir.resolve("emoji")), "nothing prepared");
    }
}
