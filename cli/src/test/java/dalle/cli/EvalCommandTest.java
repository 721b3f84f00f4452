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

/** dalle eval as a user runs it, on an untrained tiny bundle with few captions and candidates. */
class EvalCommandTest {

    @TempDir static Path dir;

    @BeforeAll
    static void bundle() {
        CliRun.untrainedBundle(dir.resolve("bundle"));
    }

    @Test
    void evalPrintsTheTableAndWritesMarkdownJsonAndPlot() throws Exception {
        Path out = dir.resolve("eval");
        CliRun r = CliRun.dalle("eval", "--model", dir.resolve("bundle").toString(), "--captions-per-set", "1",
                "--n", "2,1", "--images", "4", "--seed", "3", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("| caption set | N=1 | N=2 | oracle-best@2 | raw candidate accuracy |"), r.out());
        assertTrue(r.out().contains("codebook perplexity"), r.out());
        assertEquals(r.out(), Files.readString(out.resolve("eval.md")), "stdout is eval.md");
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("eval.json"))).getAsJsonObject();
        assertTrue(json.get("bundle_version").getAsString().startsWith("untrained-tiny-"));
        assertEquals(3, json.get("seed").getAsLong());
        assertEquals("[1,2]", json.get("ns").toString(), "sizes sorted");
        assertEquals(4, json.getAsJsonArray("caption_match").size());
        JsonObject reconstruction = json.getAsJsonArray("reconstruction").get(0).getAsJsonObject();
        assertEquals(512, reconstruction.get("codebook_size").getAsInt());
        BufferedImage png = ImageIO.read(out.resolve("accuracy-vs-n.png").toFile());
        assertTrue(png.getWidth() > 0);
    }

    @Test
    void badOptionsFailWithOneLineBeforeLoadingTheModel() {
        CliRun zero = CliRun.dalle("eval", "--model", dir.resolve("nothing-here").toString(), "--n", "0,4");
        assertEquals(2, zero.exit());
        assertTrue(zero.err().contains("n: 0 is outside 1..512"), zero.err());
        CliRun few = CliRun.dalle("eval", "--model", dir.resolve("nothing-here").toString(), "--captions-per-set", "0");
        assertEquals(2, few.exit());
        assertTrue(few.err().contains("captions per set: 0"), few.err());
        assertTrue(!few.err().contains("\tat "), "no stack trace: " + few.err());
    }
}
