package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalle train prior --workers W --groups G} with PowerSGD, bf16 and fp16 between worker processes. */
class DistributedTrainCommandTest {

    @TempDir
    Path dir;

    @Test
    void anUnknownPrecisionIsAOneLineErrorAndANegativeRankIsRefused() {
        CliRun fp8 = CliRun.dalle("train", "prior", "--dvae", dir.resolve("none").toString(), "--workers", "2",
                "--groups", "2", "--steps", "4", "--precision", "fp8", "--out", dir.resolve("p").toString());
        assertEquals(2, fp8.exit());
        assertTrue(fp8.err().contains("--precision must be fp32, fp16 or bf16, got 'fp8'")
                && !fp8.err().contains("\tat "), fp8.err());
        CliRun negative = CliRun.dalle("train", "prior", "--dvae", dir.resolve("none").toString(), "--workers", "2",
                "--groups", "2", "--steps", "4", "--powersgd-rank=-1", "--out", dir.resolve("q").toString());
        assertEquals(2, negative.exit());
        assertTrue(negative.err().contains("--powersgd-rank -1"), negative.err());
    }

    @Test
    void twoGroupsTrainWithPowerSgdAndBf16AndLogFewerBytesThanDense() throws Exception {
        Path dvae = tinyDvae();
        Path priorConfig = tinyPriorConfig();

        Path prior = dir.resolve("prior");
        CliRun p = CliRun.dalle("train", "prior", "--dvae", dvae.toString(), "--config", priorConfig.toString(),
                "--examples", "16", "--vocab", "300", "--steps", "4", "--batch", "4", "--workers", "2", "--groups", "2",
                "--powersgd-rank", "1", "--precision", "bf16", "--out", prior.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(Files.isRegularFile(prior.resolve("model/model.safetensors")));
        List<String> rows = Files.readAllLines(prior.resolve("metrics.jsonl"));
        assertEquals(4, rows.size());
        for (String line : rows) {
            JsonObject row = JsonParser.parseString(line).getAsJsonObject();
            long sent = row.get("sent_bytes").getAsLong();
            assertTrue(sent > 0 && sent < row.get("dense_bytes").getAsLong(), line);
        }
        String manifest = Files.readString(prior.resolve("checkpoint/manifest.json"));
        assertTrue(manifest.contains("powersgd-r1") && manifest.contains("bf16"), manifest);
    }

    @Test
    void twoWorkerProcessesTrainInFp16AndCheckpointTheirGradientScales() throws Exception {
        Path dvae = tinyDvae();
        Path priorConfig = tinyPriorConfig();

        Path prior = dir.resolve("prior");
        CliRun p = CliRun.dalle("train", "prior", "--dvae", dvae.toString(), "--config", priorConfig.toString(),
                "--examples", "16", "--vocab", "300", "--steps", "3", "--batch", "4", "--workers", "2",
                "--precision", "fp16", "--out", prior.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(Files.isRegularFile(prior.resolve("model/model.safetensors")));
        assertEquals(3, Files.readAllLines(prior.resolve("metrics.jsonl")).size());
        String manifest = Files.readString(prior.resolve("checkpoint/manifest.json"));
        assertTrue(manifest.contains("fp16"), manifest);
    }

    @Test
    void prepareOnlyWritesTheRunFolderForWorkersStartedElsewhereAndTrainsNothing() throws Exception {
        Path dvae = tinyDvae();
        Path priorConfig = tinyPriorConfig();

        Path prior = dir.resolve("prior");
        CliRun p = CliRun.dalle("train", "prior", "--dvae", dvae.toString(), "--config", priorConfig.toString(),
                "--examples", "16", "--vocab", "300", "--steps", "3", "--batch", "4", "--workers", "4", "--groups", "2",
                "--prepare-only", "--out", prior.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(Files.isRegularFile(prior.resolve("run.json")));
        assertTrue(Files.isRegularFile(prior.resolve("tokenizer.json")));
        assertFalse(Files.exists(prior.resolve("checkpoint")), "no worker ran");

        CliRun single = CliRun.dalle("train", "prior", "--dvae", dvae.toString(), "--steps", "3", "--prepare-only",
                "--out", dir.resolve("single").toString());
        assertEquals(2, single.exit());
        assertTrue(single.err().contains("--prepare-only prepares a distributed run"), single.err());
    }

    /** A 1-step dVAE at 32×32 with a 4×4 grid over 64 codes: enough for the prior's code cache. */
    private Path tinyDvae() throws Exception {
        Path config = Files.writeString(dir.resolve("dvae.json"), "{\"imageSize\":32,\"gridSize\":4,"
                + "\"codebookSize\":64,\"width\":8,\"blocksPerGroup\":1,\"decoderInitWidth\":8}");
        Path dvae = dir.resolve("dvae");
        CliRun d = CliRun.dalle("train", "dvae", "--config", config.toString(), "--steps", "1", "--batch", "2",
                "--out", dvae.toString());
        assertEquals(0, d.exit(), d.err());
        return dvae;
    }

    /** A 2-layer, width-32 prior over 8 text tokens. */
    private Path tinyPriorConfig() throws Exception {
        return Files.writeString(dir.resolve("prior.json"), "{\"textLength\":8,\"width\":32,\"heads\":2,"
                + "\"layers\":2,\"convKernel\":3,\"mlpRatio\":2}");
    }
}
