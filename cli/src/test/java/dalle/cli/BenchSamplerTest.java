package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchSamplerTest {

    @Test
    void benchSamplerPrintsGflopsAndTheRatioToMatmulPerPath() {
        CliRun r = CliRun.dalle("bench", "sampler", "--batch", "2", "--repeat", "1", "--paths", "kv-cache,fast");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("GFLOP/s") && r.out().contains("mm512"), r.out());
        for (String path : new String[] {"kv-cache", "fast"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("tiny") && l.contains(" " + path + " ")
                    && l.trim().endsWith("x")), path + "\n" + r.out());
        }
    }

    @Test
    void benchSamplerRefusesAnUnknownPathOrPreset() {
        assertNotEquals(0, CliRun.dalle("bench", "sampler", "--paths", "warp").exit());
        CliRun preset = CliRun.dalle("bench", "sampler", "--preset", "paper");
        assertNotEquals(0, preset.exit());
        assertTrue(preset.err().contains("--preset"), preset.err());
    }
}
