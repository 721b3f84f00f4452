package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.bundle.ModelBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole training workflow as a user runs it, at tiny custom sizes: dvae, prior, clip, assemble, generate. */
class TrainCommandTest {

    @TempDir Path dir;

    private Path json(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void trainsTheThreeModelsAndAssemblesABundleThatGenerates() throws Exception {
        Path dvaeConfig = json("dvae.json", "{\"imageSize\":32,\"gridSize\":4,\"codebookSize\":64,\"width\":8,"
                + "\"blocksPerGroup\":1,\"decoderInitWidth\":8}");
        Path priorConfig = json("prior.json", "{\"textLength\":8,\"width\":32,\"heads\":2,\"layers\":2,"
                + "\"convKernel\":3,\"mlpRatio\":2}");
        Path clipConfig = json("clip.json", "{\"textLength\":8,\"imageSize\":32,\"textWidth\":32,\"textLayers\":1,"
                + "\"textHeads\":2,\"imageWidth\":8,\"embedDim\":16}");
        Path dvae = dir.resolve("dvae");
        Path prior = dir.resolve("prior");
        Path clip = dir.resolve("clip");
        Path bundle = dir.resolve("bundle");

        CliRun d = CliRun.dalle("train", "dvae", "--config", dvaeConfig.toString(), "--steps", "6", "--batch", "4",
                "--checkpoint-every", "3", "--recipe", "shapes", "--out", dvae.toString());
        assertEquals(0, d.exit(), d.err());
        String state = Files.readString(dvae.resolve("checkpoint/state.json"));
        assertTrue(state.contains("\"gaussian\"") && state.contains("\"shapes\""), state);
        assertTrue(Files.isRegularFile(dvae.resolve("model/model.safetensors")));
        assertTrue(Files.isRegularFile(dvae.resolve("loss.png")));
        assertEquals(6, Files.readAllLines(dvae.resolve("metrics.jsonl")).size());

        CliRun again = CliRun.dalle("train", "dvae", "--config", dvaeConfig.toString(), "--steps", "6", "--out", dvae.toString());
        assertEquals(2, again.exit());
        assertTrue(again.err().contains("already holds a training run") && again.err().contains("--resume"),
                again.err());

        CliRun more = CliRun.dalle("train", "dvae", "--config", dvaeConfig.toString(), "--steps", "8", "--batch", "4",
                "--checkpoint-every", "3", "--recipe", "shapes", "--out", dvae.toString(), "--resume");
        assertEquals(0, more.exit(), more.err());
        assertTrue(!more.err().contains("reconstruction gaussian ->"), "same recipe, nothing changed: " + more.err());
        assertEquals(8, Files.readAllLines(dvae.resolve("metrics.jsonl")).size(), "the run extended to 8 steps");

        CliRun p = CliRun.dalle("train", "prior", "--dvae", dvae.toString(), "--config", priorConfig.toString(),
                "--examples", "32", "--vocab", "300", "--steps", "6", "--batch", "4", "--out", prior.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(Files.isRegularFile(prior.resolve("codes.bin")));
        Path tokenizer = prior.resolve("tokenizer.json");
        assertTrue(Files.isRegularFile(tokenizer));

        CliRun c = CliRun.dalle("train", "clip", "--tokenizer", tokenizer.toString(), "--config", clipConfig.toString(),
                "--steps", "6", "--batch", "4", "--out", clip.toString());
        assertEquals(0, c.exit(), c.err());

        CliRun a = CliRun.dalle("bundle", "assemble", "--tokenizer", tokenizer.toString(), "--dvae", dvae.toString(),
                "--prior", prior.toString(), "--clip", clip.toString(), "--out", bundle.toString(), "--name",
                "test-shapes", "--f16");
        assertEquals(0, a.exit(), a.err());
        try (ModelBundle loaded = ModelBundle.load(bundle)) {
            assertEquals("custom", loaded.manifest().preset());
            assertTrue(loaded.version().startsWith("test-shapes-"));
            assertTrue(loaded.manifest().description().contains("dVAE 8 steps"), loaded.manifest().description());
        }

        CliRun g = CliRun.dalle("generate", "a red circle", "-n", "2", "-k", "1", "--model", bundle.toString(), "--out",
                dir.resolve("images").toString());
        assertEquals(0, g.exit(), g.err());
        assertTrue(Files.isRegularFile(dir.resolve("images/top-1.png")));
    }

    @Test
    void aMissingDvaeAndAnUnknownPresetAreOneLineErrors() {
        CliRun noDvae = CliRun.dalle("train", "prior", "--dvae", dir.resolve("nothing").toString(), "--steps", "5", "--out",
                dir.resolve("p").toString());
        assertEquals(2, noDvae.exit());
        assertTrue(noDvae.err().contains("no model at"), noDvae.err());
        CliRun preset = CliRun.dalle("train", "dvae", "--preset", "paper", "--steps", "5", "--out", dir.resolve("d").toString());
        assertEquals(2, preset.exit());
        assertTrue(preset.err().contains("--preset") && !preset.err().contains("\tat "), preset.err());
        CliRun recipe = CliRun.dalle("train", "dvae", "--recipe", "fast", "--steps", "5", "--out", dir.resolve("r").toString());
        assertEquals(2, recipe.exit());
        assertTrue(recipe.err().contains("unknown dVAE recipe 'fast'") && !recipe.err().contains("\tat "), recipe.err());
    }
}
