package dalle.tests;

import dalle.cli.ServicesStack;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The stack under test: {@code dalle up}'s broker and five service processes ({@link ServicesStack}) on
 * {@link E2eBundle}, with free ports. The services are the checkout's packaged quarkus-apps under
 * {@code services/<name>/target} ({@code dalle.services.dir}, set by the pom).
 */
final class Stack {

    /** Service JVMs: small heaps, one libtorch thread. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1");
    /** The sampler takes 2 requests per poll, so a kill lands mid-work. */
    static final Map<String, List<String>> SERVICE_OPTIONS = Map.of("sampler",
            List.of("-Ddalle.kafka.max-poll-records=2"));

    private Stack() {
    }

    static ServicesStack start(Path dir, Path bundle) throws IOException {
        return start(dir, bundle, SERVICE_OPTIONS);
    }

    /** As {@link #start(Path, Path)} with these services' own JVM options instead of {@link #SERVICE_OPTIONS}. */
    static ServicesStack start(Path dir, Path bundle, Map<String, List<String>> serviceOptions) throws IOException {
        return start(dir, bundle, serviceOptions, List.of());
    }

    /**
     * As {@link #start(Path, Path, Map)}, every service JVM also given {@code jvmOptions} (after
     * {@link #JVM_OPTIONS}), e.g. an OTLP endpoint.
     */
    static ServicesStack start(Path dir, Path bundle, Map<String, List<String>> serviceOptions,
            List<String> jvmOptions) throws IOException {
        Path services = Path.of(System.getProperty("dalle.services.dir", "../services"));
        for (String s : ServicesStack.SERVICES) {
            Path jar = services.resolve(s).resolve("target/quarkus-app/quarkus-run.jar");
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException("no " + s + " service at " + jar.toAbsolutePath() + ": build the "
                        + "services with `mvn -B -q -DskipTests -pl services/" + s + " -am package` (mvn verify does)");
            }
        }
        return ServicesStack.start(dir, bundle, services, ServicesStack.freePort(), freeBasePort(),
                java.util.stream.Stream.concat(JVM_OPTIONS.stream(), jvmOptions.stream()).toList(), serviceOptions,
                Duration.ofMinutes(4));
    }

    /**
     * {@code target/e2e}, emptied: the bundle, the broker's data and the services' logs ({@code run/logs}), kept
     * after the run for reading when a test fails.
     */
    static Path freshDir() throws IOException {
        return freshDir("e2e");
    }

    /** {@code target/<name>}, emptied, as {@link #freshDir()}: one folder per test class that starts a stack. */
    static Path freshDir(String name) throws IOException {
        Path dir = Path.of("target", name).toAbsolutePath();
        if (Files.exists(dir)) {
            ServicesStack.stopLeftovers(dir.resolve("run")); // a run killed before its @AfterAll
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(dir);
    }

    /** A base port whose 15 ports are free now (random in 20000..59999, seeded by the pid). */
    static int freeBasePort() throws IOException {
        SplittableRandom rng = new SplittableRandom(ProcessHandle.current().pid());
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = 20_000 + rng.nextInt(40_000);
            if (allFree(base, 15)) {
                return base;
            }
        }
        throw new IOException("no 15 free ports found for the services");
    }

    private static boolean allFree(int base, int count) {
        for (int p = base; p < base + count; p++) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /** Whether the service with this management port answers /q/health/ready with 200. */
    static boolean ready(int managementPort) {
        try {
            return HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).build().send(HttpRequest
                    .newBuilder(URI.create("http://localhost:" + managementPort + "/q/health/ready"))
                    .timeout(java.time.Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A counter's value in a Prometheus scrape of {@code http://localhost:<management port>/q/metrics}. */
    static double metric(int managementPort, String line) throws IOException, InterruptedException {
        for (String l : scrape(managementPort).split("\n")) {
            if (l.startsWith(line + " ")) {
                return Double.parseDouble(l.substring(line.length() + 1).strip());
            }
        }
        throw new AssertionError("no metric '" + line + "' in the scrape of port " + managementPort);
    }

    /** The Prometheus text of {@code http://localhost:<management port>/q/metrics}. */
    static String scrape(int managementPort) throws IOException, InterruptedException {
        // HTTP/1.1 and a timeout: the JDK client's default h2c upgrade attempt hung for minutes against a
        // busy Quarkus server in CI, and a test must fail, not wait forever
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(java.time.Duration.ofSeconds(10)).build().send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + managementPort + "/q/metrics")).timeout(java.time.Duration.ofSeconds(30))
                .GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("the scrape of port " + managementPort + " answered " + r.statusCode());
        }
        return r.body();
    }
}
