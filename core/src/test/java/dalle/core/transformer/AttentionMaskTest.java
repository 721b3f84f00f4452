package dalle.core.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle.core.transformer.AttentionMask.Type;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttentionMaskTest {

    private static final int TEXT = 3;

    /**
     * The masks in geometric terms, written independently of AttentionMask: a query/key is either a
     * text slot or an image cell (row, col) in raster order after the text.
     */
    private static boolean expected(Type type, int grid, int kernel, int query, int key) {
        boolean queryIsText = query < TEXT;
        boolean keyIsText = key < TEXT;
        if (queryIsText) {
            return keyIsText && key <= query;           // text: causal over text only
        }
        if (keyIsText) {
            return true;                                // image: sees every text slot
        }
        int r = (query - TEXT) / grid;
        int c = (query - TEXT) % grid;
        int kr = (key - TEXT) / grid;
        int kc = (key - TEXT) % grid;
        boolean sameRowLeftOrSelf = kr == r && kc <= c;
        switch (type) {
            case ROW:
                // current row up to self, plus the previous row from this column to its end
                return sameRowLeftOrSelf || (kr == r - 1 && kc >= c);
            case COLUMN:
                return kc == c && kr <= r;
            case CONV:
                int h = kernel / 2;
                boolean inWindow = kr >= r - h && kr <= r && Math.abs(kc - c) <= h;
                boolean causal = kr < r || kc <= c;
                return inWindow && causal;
            default:
                throw new AssertionError(type);
        }
    }

    private static void assertMatchesGeometry(int grid, int kernel) {
        PriorConfig config = new PriorConfig(10, TEXT, 0, 8, grid, 8, 2, 4, kernel, 4);
        try (NDManager manager = NDManager.newBaseManager()) {
            AttentionMask mask = new AttentionMask(manager, config);
            int n = TEXT + grid * grid - 1;
            assertEquals(n, mask.length());
            for (Type type : Type.values()) {
                boolean[][] bool = mask.booleanMask(type);
                float[] additive = mask.additive(type, DataType.FLOAT32).toFloatArray();
                for (int q = 0; q < n; q++) {
                    for (int k = 0; k < n; k++) {
                        boolean want = expected(type, grid, kernel, q, k);
                        String where = type + " grid " + grid + " query " + q + " key " + k;
                        assertEquals(want, mask.allows(type, q, k), where);
                        assertEquals(want, bool[q][k], where);
                        assertEquals(want ? 0f : Float.NEGATIVE_INFINITY, additive[q * n + k], where);
                    }
                }
            }
        }
    }

    @Test
    void masksMatchTheirGeometricDefinitionOnAFourByFourGrid() {
        assertMatchesGeometry(4, 3);
        assertMatchesGeometry(4, 5);
    }

    @Test
    void masksMatchTheirGeometricDefinitionOnAnEightByEightGrid() {
        assertMatchesGeometry(8, 5);
        assertMatchesGeometry(8, 11);
    }

    @Test
    void rowWindowOfACellSpansExactlyGridPlusOneImageTokens() {
        // Given the cell (2, 1) of an 8x8 grid, image index 17
        PriorConfig config = new PriorConfig(10, TEXT, 0, 8, 8, 8, 2, 4, 5, 4);
        try (NDManager manager = NDManager.newBaseManager()) {
            AttentionMask mask = new AttentionMask(manager, config);
            int q = TEXT + 17;
            int seen = 0;
            for (int j = 0; j <= 17; j++) {
                seen += mask.allows(Type.ROW, q, TEXT + j) ? 1 : 0;
            }
            // Then it sees (1, 1)..(1, 7) and (2, 0)..(2, 1): 9 tokens
            assertEquals(9, seen);
            assertTrue(mask.allows(Type.ROW, q, TEXT + 9));
            assertTrue(!mask.allows(Type.ROW, q, TEXT + 8));
        }
    }

    @Test
    void sliceRowsEqualTheFullMask() {
        PriorConfig config = new PriorConfig(10, TEXT, 0, 8, 4, 8, 2, 4, 3, 4);
        try (NDManager manager = NDManager.newBaseManager(); NDManager scratch = manager.newSubManager()) {
            AttentionMask mask = new AttentionMask(manager, config);
            int n = mask.length();
            for (Type type : Type.values()) {
                float[] full = mask.additive(type, DataType.FLOAT32).toFloatArray();
                NDArray row = mask.rows(type, 7, 1, DataType.FLOAT32, scratch);
                assertEquals(new Shape(1, 8), row.getShape());
                float[] r = row.toFloatArray();
                for (int k = 0; k < 8; k++) {
                    assertEquals(full[7 * n + k], r[k], type + " key " + k);
                }
                NDArray block = mask.rows(type, 0, TEXT, DataType.FLOAT32, scratch);
                assertEquals(new Shape(TEXT, TEXT), block.getShape());
                assertTrue(mask.rows(type, 7, 1, DataType.FLOAT32, scratch) == row, "single rows are cached");
            }
        }
    }

    @Test
    void scheduleForFourLayersIsRowColumnRowConv() {
        assertEquals(List.of(Type.ROW, Type.COLUMN, Type.ROW, Type.CONV), schedule(4));
    }

    @Test
    void scheduleForEightLayersPutsColumnsAtLayersTwoAndSix() {
        assertEquals(List.of(Type.ROW, Type.COLUMN, Type.ROW, Type.ROW, Type.ROW, Type.COLUMN, Type.ROW, Type.CONV),
                schedule(8));
    }

    @Test
    void scheduleForSixtyFourLayersFollowsThePaper() {
        List<Type> s = schedule(64);
        for (int i = 1; i <= 64; i++) {
            Type want = i == 64 ? Type.CONV : (i % 4 == 2 ? Type.COLUMN : Type.ROW);
            assertEquals(want, s.get(i - 1), "layer " + i);
        }
        assertEquals(16, s.stream().filter(t -> t == Type.COLUMN).count()); // layers 2, 6, ..., 62
        assertEquals(47, s.stream().filter(t -> t == Type.ROW).count());
        assertThrows(IllegalArgumentException.class, () -> AttentionMask.forLayer(0, 64));
        assertThrows(IllegalArgumentException.class, () -> AttentionMask.forLayer(65, 64));
    }

    private static List<Type> schedule(int layers) {
        return java.util.stream.IntStream.rangeClosed(1, layers).mapToObj(i -> AttentionMask.forLayer(i, layers)).toList();
    }
}
