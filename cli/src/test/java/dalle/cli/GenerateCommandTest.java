package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dalle command as a user runs it: an untrained tiny bundle, then generate into a folder. */
class GenerateCommandTest {

    @TempDir static Path dir;

    @BeforeAll
    static void bundle() {
        CliRun.untrainedBundle(dir.resolve("bundle"));
    }

    @Test
    void generateWritesTopKImagesASheetAndScores() throws Exception {
        Path out = dir.resolve("out");
        CliRun r = CliRun.dalle("generate", "a small red circle", "-n", "3", "-k", "2", "-s", "7",
                "--model", dir.resolve("bundle").toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        BufferedImage top = ImageIO.read(out.resolve("top-1.png").toFile());
        assertEquals(64, top.getWidth());
        assertEquals(64, top.getHeight());
        assertTrue(Files.isRegularFile(out.resolve("top-2.png")));
        assertTrue(!Files.exists(out.resolve("top-3.png")), "only k images");
        BufferedImage sheet = ImageIO.read(out.resolve("sheet.png").toFile());
        assertTrue(sheet.getWidth() > 2 * 64, "sheet holds all candidates side by side");
        JsonObject scores = JsonParser.parseString(Files.readString(out.resolve("scores.json"))).getAsJsonObject();
        assertEquals("a small red circle", scores.get("caption").getAsString());
        assertEquals(7, scores.get("seed").getAsLong());
        assertTrue(scores.get("bundle_version").getAsString().startsWith("untrained-tiny-"));
        assertEquals(3, scores.getAsJsonArray("ranked").size());
        float first = scores.getAsJsonArray("ranked").get(0).getAsJsonObject().get("score").getAsFloat();
        float second = scores.getAsJsonArray("ranked").get(1).getAsJsonObject().get("score").getAsFloat();
        assertTrue(first >= second, "ranked best first");
    }

    @Test
    void badInputFailsWithOneLineNamingTheProblem() {
        CliRun zero = CliRun.dalle("generate", "a red circle", "-n", "0", "--model", dir.resolve("bundle").toString());
        assertEquals(2, zero.exit());
        assertTrue(zero.err().contains("candidates: 0 is outside 1..512"), zero.err());

        CliRun missing = CliRun.dalle("generate", "a red circle", "--model", dir.resolve("nothing-here").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("bundle.json"), missing.err());
        assertTrue(!missing.err().contains("\tat "), "no stack trace: " + missing.err());
    }
}
