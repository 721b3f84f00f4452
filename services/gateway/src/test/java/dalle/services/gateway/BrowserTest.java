package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dalle.services.common.TestBroker;
import dalle.services.common.kafka.CloudEvents;
import dalle.services.common.kafka.CloudEventsTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The web page at {@code /} in a real browser: Debian's Chromium driven by {@code playwright-core}
 * ({@code src/test/browser/page.test.mjs}, installed with {@code npm ci}) against this gateway, its stand-in stages
 * and, for jobs, the test broker with {@link FakePipeline} in place of the Kafka stages. The script types a caption,
 * generates with live progress (server-sent events), checks the N best ranked with their scores and candidate
 * indices and the contact sheet, shows a 400 as the API gives it, queues a job, waits for it to succeed in the jobs
 * list and opens it. Screenshots: {@code target/browser/page-generated.png}, {@code page-job.png}.
 *
 * <p>Skipped, loudly, only where there is no Chromium (or no node) on this machine and {@code CI} is not set;
 * {@code .ci/run} installs both and sets {@code CI}, so there it always runs.
 */
@QuarkusTest
@WithTestResource(GatewayFakesWithKafka.class)
class BrowserTest {

    private static final Path SCRIPT_DIR = Path.of("src", "test", "browser");
    private static final Path OUT = Path.of("target", "browser");

    private static Path chromium() {
        String configured = System.getenv("CHROMIUM");
        for (String c : configured != null ? List.of(configured) : List.of("/usr/bin/chromium",
                "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command in the script folder; its output goes to {@code log}; fails the test on a non-zero exit. */
    private static String run(Path log, long timeoutSeconds, String... command) throws Exception {
        return run(log, timeoutSeconds, Map.of(), command);
    }

    private static String run(Path log, long timeoutSeconds, Map<String, String> env, String... command)
            throws Exception {
        ProcessBuilder b = new ProcessBuilder(command).directory(SCRIPT_DIR.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        b.environment().putAll(env);
        Process p = b.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " ran over " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }

    @Test
    void aCaptionGeneratesWithProgressIntoRankedImagesAndAQueuedJobOpensOnceDone() throws Exception {
        Path browser = chromium();
        if (browser == null || !onPath("node") || !onPath("npm")) {
            String why = "BrowserTest needs Chromium (apt-get install chromium, or CHROMIUM=<binary>) and node/npm;"
                    + " found chromium=" + browser + ", node=" + onPath("node") + ", npm=" + onPath("npm");
            if (System.getenv("CI") != null) {
                fail(why + " (CI is set: .ci/run installs them, so this is a failure there)");
            }
            System.err.println("\n*** SKIPPED: " + why + " ***\n");
            Assumptions.abort(why);
        }
        // the stages agree and the Streams apps run (their first start takes a while on a loaded machine)
        long ready = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (GatewayTest.manage("/q/health/ready").statusCode() != 200 && System.nanoTime() < ready) {
            Thread.sleep(200);
        }
        GatewayTest.awaitReadiness(200);
        Files.createDirectories(OUT);
        long t0 = System.nanoTime();
        run(OUT.resolve("npm-ci.log").toAbsolutePath(), 300, "npm", "ci", "--no-audit", "--no-fund");
        long t1 = System.nanoTime();
        String seen;
        try (FakePipeline pipeline = new FakePipeline(TestBroker.bootstrap())) {
            // jobs queued by other clients: one with the page's key (the page lists it), one of another tenant (new
            // ids each run: the status view's state outlives a run)
            String mine = "another-client-" + System.currentTimeMillis();
            String theirs = "another-tenant-" + System.currentTimeMillis();
            assertEquals(202, GatewayTest.post("/v1/jobs", "{\"prompt\":\"a red circle\",\"n\":1,\"candidates\":2,"
                    + "\"request_id\":\"" + mine + "\"}").statusCode());
            assertEquals(202, GatewayTest.post("/v1/jobs", "{\"prompt\":\"a red circle\",\"n\":1,\"candidates\":2,"
                    + "\"request_id\":\"" + theirs + "\"}", "Bearer " + GatewayFakes.GLOBEX_KEY).statusCode());
            seen = run(OUT.resolve("page.log").toAbsolutePath(), 240, Map.of("OTHER_CLIENTS_JOB", mine,
                    "OTHER_TENANTS_JOB", theirs), "node", "page.test.mjs",
                    "http://localhost:18470", browser.toString(), OUT.toAbsolutePath().toString(),
                    GatewayFakes.ACME_KEY);
            // the job's record on generation-requests carries the CloudEvents headers, from the gateway
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (pipeline.requestHeaders.size() < 3 && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertEquals(3, pipeline.requestHeaders.size(), "each job's record read once");
            CloudEventsTest.assertCloudEvent(pipeline.requestHeaders.get(0), "dalle.v1.GenerationRequest");
            assertEquals("/dalle/gateway", CloudEvents.header(pipeline.requestHeaders.get(0), "ce_source"));
        }
        long t2 = System.nanoTime();
        System.out.printf("BrowserTest: npm ci %d ms, browser session %d ms; saw %s%n",
                TimeUnit.NANOSECONDS.toMillis(t1 - t0), TimeUnit.NANOSECONDS.toMillis(t2 - t1), seen.strip());
        assertTrue(Files.size(OUT.resolve("page-generated.png")) > 10_000, "the screenshot is kept");
        assertTrue(Files.size(OUT.resolve("page-job.png")) > 10_000);
    }
}
