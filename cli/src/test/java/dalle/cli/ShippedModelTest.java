package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.ModelBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped bundle {@code models/tiny}: it loads (every part's SHA-256 checked), it is the default,
 * it fits the 30 MB budget, and {@code dalle eval} with the model card's settings reproduces the
 * model card's table, number for number.
 */
class ShippedModelTest {

    static final Path ROOT = Path.of(System.getProperty("dalle.home", ".")).toAbsolutePath().normalize();
    static final Path SHIPPED = ROOT.resolve("models/tiny");
    static final Path CARD = ROOT.resolve("MODEL_CARD.md");
    static final String BEGIN = "<!-- dalle eval: begin -->";
    static final String END = "<!-- dalle eval: end -->";

    @TempDir Path dir;

    @Test
    void theShippedBundleLoadsIsTheDefaultAndFitsThirtyMegabytes() throws IOException {
        try (ModelBundle bundle = ModelBundle.load(SHIPPED)) {
            assertTrue(bundle.version().startsWith("tiny-shapes-"), bundle.version());
        }
        long bytes;
        try (Stream<Path> files = Files.walk(SHIPPED)) {
            bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(bytes <= 30L * 1024 * 1024, "models/tiny holds " + bytes + " bytes");

        // no --model: generate uses it (a caption from a held-out pair: red squares never appear in training)
        Path images = dir.resolve("images");
        CliRun g = CliRun.dalle("generate", "a large red square", "-n", "4", "-k", "2", "--out", images.toString());
        assertEquals(0, g.exit(), g.err());
        assertTrue(Files.readString(images.resolve("scores.json")).contains("\"tiny-shapes-"), "the shipped bundle");
        assertTrue(Files.isRegularFile(images.resolve("top-2.png")));
    }

    @Test
    void evalReproducesTheModelCardTable() throws IOException {
        String card = Files.readString(CARD);
        int begin = card.indexOf(BEGIN);
        int end = card.indexOf(END);
        assertTrue(begin >= 0 && end > begin, CARD + " has no " + BEGIN + " ... " + END + " block");
        String expected = deterministic(card.substring(begin + BEGIN.length(), end));

        Path out = dir.resolve("eval");
        CliRun r = CliRun.dalle("eval", "--model", SHIPPED.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(expected, deterministic(Files.readString(out.resolve("eval.md"))),
                "dalle eval (default seed and sets) against the table in MODEL_CARD.md");
    }

    /** The report without its timing line (the only part that differs between two runs), trimmed. */
    private static String deterministic(String markdown) {
        List<String> lines = markdown.strip().lines().filter(l -> !l.startsWith("Time: ")).toList();
        return String.join("\n", lines).strip();
    }
}
