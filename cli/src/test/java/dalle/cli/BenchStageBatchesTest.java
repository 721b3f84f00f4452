package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchStageBatchesTest {

    @Test
    void printsImagesPerSecondOfDecodeAndRerankPerBatchAndTheMemory() {
        CliRun r = CliRun.dalle("bench", "stage-batches", "--batch", "1,4", "--repeat", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("device cpu()") && r.out().contains("rates per CPU second"), r.out());
        for (String batch : new String[] {"1", "4"}) {
            List<String> row = r.out().lines().filter(l -> l.matches("tiny\\s+" + batch + "\\s.*")).toList();
            assertEquals(1, row.size(), r.out());
            String[] cells = row.get(0).trim().split("\\s+");
            assertEquals(6, cells.length, row.get(0));
            for (int i = 2; i < 6; i++) {
                assertTrue(Double.parseDouble(cells[i]) > 0, row.get(0));
            }
            // images/s = batch / seconds, for the decode and the rerank columns; seconds are printed to 0.0001 and
            // images/s to 0.1, so allow what that rounding can bring (a 5 ms pass is 1 % from its printed value)
            for (int col = 2; col <= 3; col++) {
                double seconds = Double.parseDouble(cells[col]);
                double expected = Integer.parseInt(batch) / seconds;
                assertEquals(expected, Double.parseDouble(cells[col + 2]),
                        expected * 0.00005 / (seconds - 0.00005) + 0.05 + 1e-9, row.get(0));
            }
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("memory after tiny: process peak RSS ") && l.endsWith("MiB")),
                r.out());
    }

    @Test
    void refusesAnUnknownPresetAndABadBatch() {
        CliRun preset = CliRun.dalle("bench", "stage-batches", "--preset", "paper");
        assertNotEquals(0, preset.exit());
        assertTrue(preset.err().contains("--preset") && preset.err().contains("tiny, small"), preset.err());
        CliRun batch = CliRun.dalle("bench", "stage-batches", "--batch", "0");
        assertNotEquals(0, batch.exit());
        assertTrue(batch.err().contains("--batch"), batch.err());
    }
}
