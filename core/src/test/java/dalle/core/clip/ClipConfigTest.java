package dalle.core.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class ClipConfigTest {

    @Test
    void tinyAnalyticParameterCountEqualsTheInstantiatedModel() {
        ClipConfig config = ClipConfig.tiny(300, 0);
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, config, 1L);
            assertEquals(scorer.parameterCount(), config.parameterCount());
            // per tower too, so a mistake cannot hide in a compensating one
            long text = scorer.parameters().entrySet().stream().filter(e -> e.getKey().startsWith("text."))
                    .mapToLong(e -> e.getValue().size()).sum();
            assertEquals(text, config.textParameterCount());
        }
    }

    @Test
    void gridPoolingProjectsTheWholeLastGridAndOlderConfigsReadAsAveragePooling() {
        ClipConfig tiny = ClipConfig.tiny(300, 0);
        assertTrue(tiny.gridPooling());
        assertEquals(256 * 4 * 4, tiny.imageFeaturesPooled());
        ClipConfig averaged = new ClipConfig(300, 32, 0, 64, 128, 2, 4, 32, 128);
        assertEquals(256, averaged.imageFeaturesPooled());
        assertEquals(tiny.parameterCount() - (256L * 16 - 256) * 128, averaged.parameterCount());
        // a config.json written before the field existed
        ClipConfig old = dalle.core.io.Checkpoints.GSON.fromJson("{\"textVocab\":300,\"textLength\":32,\"padTokenId\":0,"
                + "\"imageSize\":64,\"textWidth\":128,\"textLayers\":2,\"textHeads\":4,\"imageWidth\":32,"
                + "\"embedDim\":128}", ClipConfig.class);
        assertEquals(averaged, old);
        try (NDManager manager = NDManager.newBaseManager()) {
            ContrastiveScorer scorer = new ContrastiveScorer(manager, tiny, 1L);
            assertEquals(256L * 16 * 128, scorer.parameters().get("image.projection.weight").size());
            var images = manager.randomUniform(0f, 1f, new ai.djl.ndarray.types.Shape(2, 3, 64, 64));
            assertEquals(new ai.djl.ndarray.types.Shape(2, 128), scorer.encodeImage(images).getShape());
        }
    }

    @Test
    void flopsCountTheConvolutionsAtTheirResolutionAndTheTextLayers() {
        ClipConfig tiny = ClipConfig.tiny(300, 0);
        // 3×3 convs 3→32 at 64², 32→64 at 32², 64→128 at 16², 128→256 at 8², then 256·4² → 128; 2 FLOPs a multiply-add
        long image = 2L * (3 * 32 * 9 * 4096 + 32 * 64 * 9 * 1024 + 64 * 128 * 9 * 256 + 128 * 256 * 9 * 64
                + 256 * 16 * 128);
        assertEquals(image, tiny.imageFlopsPerImage());
        assertEquals(121_372_672L, tiny.imageFlopsPerImage());
        // per layer: q, k, v, output and the 4× MLP (12·C² a position) plus Q·Kᵀ and A·V (2·T²·C)
        long text = 2L * (2 * (32L * 12 * 128 * 128 + 2L * 32 * 32 * 128) + 128 * 128);
        assertEquals(text, tiny.textFlops(32));
    }

    @Test
    void paperSizesGiveAnAnalyticCountWithoutAllocating() {
        ClipConfig paper = ClipConfig.paper(16384, 0);
        // text tower of CLIP ViT-B/32 over 256 positions: 12 layers of 12·512² + 13·512, embeddings, projection
        long text = 16384L * 512 + 256L * 512 + 12L * (12L * 512 * 512 + 13L * 512) + 2L * 512 + 512L * 512;
        assertEquals(text, paper.textParameterCount());
        long image = (3L * 64 * 9 + 64) + (64L * 128 * 9 + 128) + (128L * 256 * 9 + 256) + (256L * 512 * 9 + 512)
                + 512L * 512;
        assertEquals(text + image + 1, paper.parameterCount());
        assertEquals(16, paper.imageGrid());
        assertEquals(512, paper.imageFeatures());
    }

    @Test
    void rejectsBadSizesNamingTheOffendingValue() {
        assertMessage("textWidth 130 is not divisible by textHeads 4",
                () -> new ClipConfig(100, 32, 0, 64, 130, 2, 4, 32, 128));
        assertMessage("padTokenId 100 is outside the text vocabulary [0, 100)",
                () -> new ClipConfig(100, 32, 100, 64, 128, 2, 4, 32, 128));
        assertMessage("imageSize 72 is not divisible by 16",
                () -> new ClipConfig(100, 32, 0, 72, 128, 2, 4, 32, 128));
        assertMessage("embedDim must be positive, got 0",
                () -> new ClipConfig(100, 32, 0, 64, 128, 2, 4, 32, 0));
        assertMessage("textLayers must be positive, got -1",
                () -> new ClipConfig(100, 32, 0, 64, 128, -1, 4, 32, 128));
    }

    private static void assertMessage(String expectedPrefix, Runnable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
        assertTrue(e.getMessage().startsWith(expectedPrefix), e.getMessage());
    }
}
