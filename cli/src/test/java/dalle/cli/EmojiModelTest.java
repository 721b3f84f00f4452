package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code emoji} bundle's record and, where it has been trained here, the bundle itself.
 *
 * <p>The weights are not committed (12 MB in fp16, as much again as the whole repository; see
 * models/emoji/MODEL_CARD.md): {@code models/train-emoji.sh} trains them and installs the bundle into
 * {@code models/emoji}. What is committed is the evaluation it produced ({@code eval-reduced.md} and, once the run
 * has evaluated the final bundle, {@code eval.md}), and the card must show exactly those tables — that check always
 * runs. Where the bundle is installed, it must load
 * whole and by each service's parts, generate with {@code -m}, and {@code dalle eval} with the reduced settings
 * must reproduce the card's reduced table number for number; where it or the prepared data is missing, those tests
 * are reported as skipped with the command that makes them runnable (no test downloads the pictures).
 */
class EmojiModelTest {

    static final Path ROOT = ShippedModelTest.ROOT;
    static final Path BUNDLE = ROOT.resolve("models/emoji");
    static final Path CARD = BUNDLE.resolve("MODEL_CARD.md");
    static final Path DATA = ROOT.resolve(".dalle/data/emoji");
    /** The full evaluation (dalle eval's defaults), as train-emoji.sh ran it. */
    static final String FULL = "dalle eval";
    /** The reduced evaluation: the same seed, N and judge, 4 captions per set and vendor. */
    static final String REDUCED = "dalle eval reduced";
    static final List<String> REDUCED_ARGS = List.of("--captions-per-set", "4");

    @TempDir Path dir;

    @Test
    void theCardShowsTheCommittedEvaluationsTables() throws IOException {
        String card = Files.readString(CARD);
        // the reduced table is always there (the bundle test re-runs it); the full one once the run has evaluated it
        assertBlockIsFile(card, REDUCED, BUNDLE.resolve("eval-reduced.md"), true);
        assertBlockIsFile(card, FULL, BUNDLE.resolve("eval.md"), false);
    }

    @Test
    void theInstalledBundleLoadsWholeAndByServiceAndGenerates() throws IOException {
        requireBundle();
        try (ModelBundle bundle = ModelBundle.load(BUNDLE)) {
            assertTrue(bundle.version().startsWith("emoji-"), bundle.version());
            assertEquals(16, bundle.dvae().config().gridSize());
            assertEquals(16, bundle.sizes().gridSize(), "bundle.json's sizes");
        }
        // what each stage service loads (services/<stage>): only its own parts, which needs bundle.json's sizes
        for (Set<BundlePart> parts : List.of(EnumSet.of(BundlePart.TOKENIZER), EnumSet.of(BundlePart.PRIOR),
                EnumSet.of(BundlePart.DVAE), EnumSet.of(BundlePart.CLIP, BundlePart.TOKENIZER))) {
            try (ModelBundle part = ModelBundle.load(BUNDLE, parts)) {
                assertTrue(part.version().startsWith("emoji-"), parts + ": " + part.version());
            }
        }

        Path images = dir.resolve("images");
        CliRun g = CliRun.dalle("generate", "-m", BUNDLE.toString(),
                "twemoji thumbs down sign, dark skin tone; -1, thumbsdown; people & body, hand fingers closed",
                "-n", "4", "-k", "2", "--out", images.toString());
        assertEquals(0, g.exit(), g.err());
        assertTrue(Files.readString(images.resolve("scores.json")).contains("\"emoji-"), "the emoji bundle");
        assertTrue(Files.isRegularFile(images.resolve("top-2.png")));
    }

    @Test
    void reducedEvalReproducesTheModelCardTable() throws IOException {
        requireBundle();
        if (!Files.isRegularFile(DATA.resolve("index.json"))) {
            skip(DATA + " holds no prepared emoji data; `./dalle data emoji` prepares it (downloads 136 MB from npm)");
        }
        String expected = block(Files.readString(CARD), REDUCED);
        Path out = dir.resolve("eval");
        List<String> args = new ArrayList<>(List.of("eval", "--model", BUNDLE.toString(), "--data", DATA.toString(),
                "--out", out.toString()));
        args.addAll(REDUCED_ARGS);
        CliRun r = CliRun.dalle(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertEquals(expected, deterministic(Files.readString(out.resolve("eval.md"))),
                "dalle eval --captions-per-set 4 against the reduced table in " + CARD);
    }

    private static void requireBundle() {
        if (!Files.isRegularFile(BUNDLE.resolve("bundle.json"))) {
            skip(BUNDLE + " holds no trained bundle (its weights are not committed); models/train-emoji.sh trains"
                    + " and installs it (about 3 h on 2 cores)");
        }
    }

    /** Skipped, and said so on stderr as well as in the test report. */
    private static void skip(String why) {
        System.err.println("SKIPPED EmojiModelTest: " + why);
        Assumptions.abort(why);
    }

    /** The card's table between {@code <!-- NAME: begin -->} and {@code <!-- NAME: end -->}. */
    private static String block(String card, String name) {
        String begin = "<!-- " + name + ": begin -->";
        String end = "<!-- " + name + ": end -->";
        int b = card.indexOf(begin);
        int e = card.indexOf(end);
        assertTrue(b >= 0 && e > b, CARD + " has no " + begin + " ... " + end + " block");
        return deterministic(card.substring(b + begin.length(), e));
    }

    /** The card's NAME block equals {@code file}; an optional table may be missing, but only with its file. */
    private static void assertBlockIsFile(String card, String name, Path file, boolean required) throws IOException {
        boolean shown = card.contains("<!-- " + name + ": begin -->");
        if (!required && !shown && !Files.exists(file)) {
            return;
        }
        assertTrue(Files.isRegularFile(file), CARD + " shows a '" + name + "' table but " + file + " is missing");
        assertEquals(deterministic(Files.readString(file)), block(card, name),
                "the '" + name + "' table in " + CARD + " against " + file);
    }

    /** The report without its timing line (the only part that differs between two runs), trimmed. */
    private static String deterministic(String markdown) {
        List<String> lines = markdown.strip().lines().filter(l -> !l.startsWith("Time: ")).toList();
        return String.join("\n", lines).strip();
    }
}
