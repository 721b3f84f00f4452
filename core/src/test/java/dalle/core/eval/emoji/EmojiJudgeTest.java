package dalle.core.eval.emoji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dalle.core.image.RgbImage;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The model-independent judge: area-averaged RGB and nearest neighbours with deterministic ties. */
class EmojiJudgeTest {

    private static RgbImage flat(float r, float g, float b) {
        float[] v = new float[3 * 64 * 64];
        Arrays.fill(v, 0, 4096, r);
        Arrays.fill(v, 4096, 8192, g);
        Arrays.fill(v, 8192, 12288, b);
        return new RgbImage(64, 64, v);
    }

    @Test
    void featuresAreAreaAveragesPerCell() {
        float[] v = new float[3 * 4 * 4];
        for (int i = 0; i < 16; i++) {
            v[i] = i; // red channel 0..15 in raster order
        }
        float[] f = EmojiJudge.features(new RgbImage(4, 4, v), 2);
        // red cells: top-left (0, 1, 4, 5), top-right (2, 3, 6, 7), bottom-left, bottom-right
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f, 0, 0, 0, 0, 0, 0, 0, 0}, f, 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> EmojiJudge.features(new RgbImage(4, 4, v), 3));
    }

    @Test
    void ranksTheTruthByHowManyReferencesAreNearer() {
        List<RgbImage> refs = List.of(flat(0, 0, 0), flat(1, 0, 0), flat(0.9f, 0, 0), flat(0, 0, 1));
        EmojiJudge judge = new EmojiJudge(refs, 8);
        RgbImage reddish = flat(0.97f, 0.02f, 0);
        assertEquals(0, judge.rank(reddish, 1), "pure red is nearest (0.0013 per value against 0.0053)");
        assertEquals(1, judge.rank(reddish, 2));
        assertEquals(3, judge.rank(reddish, 3));
        assertEquals(2, judge.rank(reddish, 0));
        assertEquals(0, judge.rank(refs.get(3), 3), "a reference is its own nearest");
    }

    @Test
    void tiesGoToTheLowerIndex() {
        List<RgbImage> refs = List.of(flat(0, 0, 0), flat(1, 1, 1), flat(0, 0, 0));
        EmojiJudge judge = new EmojiJudge(refs, 4);
        assertEquals(0, judge.rank(flat(0, 0, 0), 0));
        assertEquals(1, judge.rank(flat(0, 0, 0), 2), "its twin at index 0 comes first");
        assertEquals(0, judge.nearest(flat(0.1f, 0.1f, 0.1f)));
    }
}
