package dalle.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NNPACK's "Could not initialize" warning: at most once per process, and nothing else silenced. */
class LibtorchSetupTest {

    private static final String NNPACK_WARNING = "Could not initialize NNPACK!";
    private static final String OTHER_WARNING = "where received a uint8 condition tensor";

    @Test
    void aProcessThatConvolvesLogsTheNnpackWarningAtMostOnceAndOtherNativeWarningsStill(@TempDir Path dir)
            throws Exception {
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-cp", System.getProperty("java.class.path"), ConvolutionProcess.class.getName(), "40")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "the convolving process did not finish within 120 s");
        List<String> stdout = Files.readAllLines(out);
        List<String> stderr = Files.readAllLines(err);
        assertEquals(0, p.exitValue(), "the convolving process failed:\n" + String.join("\n", stderr));
        assertEquals("done", stdout.get(stdout.size() - 1), stdout.toString());

        LibtorchSetup.Nnpack decision = LibtorchSetup.Nnpack.valueOf(stdout.get(0).substring("nnpack ".length()));
        long nnpackLines = stderr.stream().filter(l -> l.contains(NNPACK_WARNING)).count();
        String context = decision + ", stderr:\n" + String.join("\n", stderr);
        assertNotEquals(LibtorchSetup.Nnpack.NOT_CONFIGURED, decision, context);
        // 40 convolutions: libtorch 2.7.1 alone logs 40 lines on hardware NNPACK refuses
        assertEquals(decision == LibtorchSetup.Nnpack.OFF_REFUSED ? 1 : 0, nnpackLines, context);
        assertEquals(1, stderr.stream().filter(l -> l.contains(OTHER_WARNING)).count(),
                "another native warning still reaches stderr: " + context);
    }
}
