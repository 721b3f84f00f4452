package dalle.core.dvae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class DvaeConfigTest {

    @Test
    void refusesAnImageSizeThatIsNotTwoFourOrEightTimesTheGrid() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DvaeConfig(60, 8, 512, 32, 1, 16));
        assertTrue(e.getMessage().contains("imageSize 60"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DvaeConfig(64, 4, 512, 32, 1, 16)); // 16 halvings
    }

    @Test
    void aFinerGridPoolsEarlyInTheEncoderAndUpsamplesLateInTheDecoder() {
        DvaeConfig paperGrid = new DvaeConfig(64, 8, 512, 32, 1, 16);
        assertEquals(3, paperGrid.halvings());
        for (int g = 0; g < 3; g++) {
            assertTrue(paperGrid.poolsAfter(g));
            assertTrue(paperGrid.upsamplesAfter(g));
        }
        DvaeConfig fine = new DvaeConfig(64, 16, 512, 32, 1, 16);
        assertEquals(2, fine.halvings());
        assertEquals(java.util.List.of(true, true, false),
                java.util.stream.IntStream.range(0, 3).mapToObj(fine::poolsAfter).toList());
        assertEquals(java.util.List.of(false, true, true),
                java.util.stream.IntStream.range(0, 3).mapToObj(fine::upsamplesAfter).toList());
        // the same weights either way: pooling has none
        assertEquals(paperGrid.parameterCount(), fine.parameterCount());
    }

    @Test
    void decoderFlopsCountEveryConvolutionAtItsResolution() {
        // tiny, by hand: input 1×1 512→16 at 8²; group 1 at 8² (16→256: id 1×1, 16→64 1×1, two 64→64 3×3,
        // 64→256 3×3), then ×2 up: group 2 at 16² (256→128), group 3 at 32² (128→64), group 4 at 64² (64→32),
        // output 1×1 32→6 at 64²; 2 FLOPs per multiply-add
        long tiny = 2L * (512 * 16 * 64
                + (16 * 256 + 16 * 64 + 2 * 64 * 64 * 9 + 64 * 256 * 9) * 64
                + (256 * 128 + 256 * 32 + 2 * 32 * 32 * 9 + 32 * 128 * 9) * 256
                + (128 * 64 + 128 * 16 + 2 * 16 * 16 * 9 + 16 * 64 * 9) * 1024
                + (64 * 32 + 64 * 8 + 2 * 8 * 8 * 9 + 8 * 32 * 9) * 4096
                + 32 * 6 * 4096);
        assertEquals(tiny, DvaeConfig.tiny().decoderFlopsPerImage());
        assertEquals(179_437_568L, DvaeConfig.tiny().decoderFlopsPerImage());
        // a finer grid runs the wide first groups at more positions: more work for the same weights
        assertTrue(new DvaeConfig(64, 16, 512, 32, 1, 16).decoderFlopsPerImage() > tiny);
        // small: two blocks per group, the second of each without its 1×1 identity conv
        assertEquals(4_821_352_448L, DvaeConfig.small().decoderFlopsPerImage());
    }

    @Test
    void refusesAWidthThatIsNotAMultipleOfFour() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DvaeConfig(64, 8, 512, 30, 1, 16));
        assertTrue(e.getMessage().contains("width 30"), e.getMessage());
    }

    @Test
    void refusesNonPositiveBlocksAndCodebook() {
        assertThrows(IllegalArgumentException.class, () -> new DvaeConfig(64, 8, 512, 32, 0, 16));
        assertThrows(IllegalArgumentException.class, () -> new DvaeConfig(64, 8, 1, 32, 1, 16));
        assertThrows(IllegalArgumentException.class, () -> new DvaeConfig(64, 8, 512, 32, 1, 0));
    }

    @Test
    void paperPresetMatchesTheReleasedDvaeSizeWithoutAllocating() {
        DvaeConfig paper = DvaeConfig.paper();
        assertEquals(1024, paper.tokens());
        assertEquals(1f / 64, paper.postGain());
        // openai/DALL-E encoder (n_hid 256, 2 blocks/group, K 8192) and decoder (n_init 128): 53.8 M + 43.8 M
        assertEquals(53_786_240L, paper.encoderParameterCount());
        assertEquals(43_829_766L, paper.decoderParameterCount());
        assertEquals(97_616_006L, paper.parameterCount());
    }

    @Test
    void analyticParameterCountEqualsTheInstantiatedModule() {
        for (DvaeConfig config : new DvaeConfig[] {DvaeConfig.tiny(), new DvaeConfig(32, 4, 64, 8, 2, 8)}) {
            try (NDManager manager = NDManager.newBaseManager()) {
                Dvae model = new Dvae(manager, config, 3);
                assertEquals(config.parameterCount(), model.parameterCount(), config.toString());
                assertEquals(config.encoderParameterCount(), model.encoder().parameterCount());
            }
        }
    }
}
