package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.clip.ClipConfig;
import dalle.core.dvae.DvaeConfig;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BenchStagesTest {

    @Test
    void printsEachPathsRateAgainstTheMatmulMeasuredInTheSameRunAndTheFloorAtThatRate() {
        CliRun r = CliRun.dalle("bench", "stages", "-m", ShippedModelTest.SHIPPED.toString(), "--images", "4",
                "--repeat", "1");
        assertEquals(0, r.exit(), r.err());
        Matcher work = Pattern.compile("decode ([0-9.]+) MFLOP an image; rerank ([0-9.]+) MFLOP an image \\+ ([0-9.]+) "
                + "a caption; fp32 matmul 512\\^3 on this thread, same run: ([0-9.]+) GFLOP/s").matcher(r.out());
        assertTrue(work.find(), r.out());
        // the shipped bundle's sizes: the tiny dVAE and reranker
        assertEquals(DvaeConfig.tiny().decoderFlopsPerImage() / 1e6, Double.parseDouble(work.group(1)), 0.05);
        assertEquals(ClipConfig.tiny(300, 0).imageFlopsPerImage() / 1e6, Double.parseDouble(work.group(2)), 0.05);
        double mm = Double.parseDouble(work.group(4));
        assertTrue(mm > 0, r.out());

        // decode: 4 images' work over the CPU seconds, and that rate over the matmul's
        List<String> decode = r.out().lines().filter(l -> l.startsWith("decode, one image per pass")).toList();
        assertEquals(1, decode.size(), r.out());
        String[] cells = decode.get(0).substring("decode, one image per pass".length()).trim().split("\\s+");
        double cpu = Double.parseDouble(cells[0]);
        double gflops = Double.parseDouble(cells[2]);
        // the printed cells are rounded (seconds to 0.001, GFLOP/s to 0.1, ratios to 0.01), so each check allows
        // exactly the error that rounding can bring: a 0.018 s pass is 0.0005 s, almost 3 %, from its printed value
        double expected = 4 * DvaeConfig.tiny().decoderFlopsPerImage() / cpu / 1e9;
        assertEquals(expected, gflops, expected * 0.0005 / (cpu - 0.0005) + 0.05 + 1e-9, decode.get(0));
        assertEquals(gflops / mm, Double.parseDouble(cells[3]),
                0.005 + 0.05 / (mm - 0.05) + gflops * 0.05 / (mm * (mm - 0.05)) + 1e-9, decode.get(0));

        Matcher floor = Pattern.compile("decode \\+ rerank of 4 images at the matmul's rate would take ([0-9.]+) s cpu "
                + "\\(([0-9.]+) GFLOP\\)").matcher(r.out());
        assertTrue(floor.find(), r.out());
        double gflop = Double.parseDouble(floor.group(2));
        assertEquals(gflop / mm, Double.parseDouble(floor.group(1)),
                0.0005 + 0.05 / (mm - 0.05) + gflop * 0.05 / (mm * (mm - 0.05)) + 1e-9, r.out());
    }
}
