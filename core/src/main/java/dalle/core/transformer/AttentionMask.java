package dalle.core.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The prior's sparse attention masks over the model input (PAPER.md, "Stage 2").
 *
 * <p>Input position p &lt; Tt holds text slot p; position p ≥ Tt holds image token k = p − Tt
 * (row k / G, column k % G). Text attends causally to text; every image position attends to all
 * text; image to image depends on the layer's {@link Type}, for key image index j ≤ k:
 * <ul>
 *   <li>{@link Type#ROW}: k − j ≤ G, a raster-order window covering the previous row (ru-dalle's
 *       {@code get_row_mask});</li>
 *   <li>{@link Type#COLUMN}: (k − j) mod G = 0, the same column above;</li>
 *   <li>{@link Type#CONV}: the causal K×K window, rows r − ⌊K/2⌋..r and columns within ⌊K/2⌋,
 *       without wrap-around.</li>
 * </ul>
 * Every mask includes the diagonal, so no row is fully masked.
 *
 * <p>The additive masks (0 where allowed, −∞ elsewhere, shape (N, N) with N = Tt + Ti − 1) are
 * built once per type and data type and kept on the manager given at construction; one-row slices
 * for incremental decoding are cached too. Thread-safe.
 */
public final class AttentionMask {

    /** The image-to-image pattern of one layer. */
    public enum Type { ROW, COLUMN, CONV }

    private final NDManager manager;
    private final int textLength;
    private final int grid;
    private final int halfKernel;
    private final int length;
    private final Map<String, NDArray> cache = new ConcurrentHashMap<>();

    /** Masks for {@code config}'s stream; arrays are created lazily on {@code manager}. */
    public AttentionMask(NDManager manager, PriorConfig config) {
        this.manager = manager;
        this.textLength = config.textLength();
        this.grid = config.gridSize();
        this.halfKernel = config.convKernel() / 2;
        this.length = config.inputLength();
    }

    /**
     * The mask type of layer {@code layer} (1-based) of {@code layers}: the last layer is
     * {@link Type#CONV}; otherwise {@link Type#COLUMN} when (layer − 2) mod 4 = 0, else {@link Type#ROW}.
     */
    public static Type forLayer(int layer, int layers) {
        if (layer < 1 || layer > layers) {
            throw new IllegalArgumentException("layer " + layer + " is outside 1.." + layers);
        }
        if (layer == layers) {
            return Type.CONV;
        }
        return Math.floorMod(layer - 2, 4) == 0 ? Type.COLUMN : Type.ROW;
    }

    /** Input length N = Tt + Ti − 1 that the masks cover. */
    public int length() {
        return length;
    }

    /** Whether input position {@code query} may attend to input position {@code key} under {@code type}. */
    public boolean allows(Type type, int query, int key) {
        if (query < 0 || key < 0 || query >= length || key >= length) {
            throw new IndexOutOfBoundsException("positions " + query + ", " + key + " outside 0.." + (length - 1));
        }
        if (key > query) {
            return false;
        }
        if (key < textLength) {
            return true; // text -> earlier text, image -> all text
        }
        int k = query - textLength;
        int j = key - textLength;
        return switch (type) {
            case ROW -> k - j <= grid;
            case COLUMN -> (k - j) % grid == 0;
            case CONV -> k / grid - j / grid <= halfKernel && Math.abs(k % grid - j % grid) <= halfKernel;
        };
    }

    /** The full (N, N) boolean mask, [query][key]. */
    public boolean[][] booleanMask(Type type) {
        boolean[][] m = new boolean[length][length];
        for (int q = 0; q < length; q++) {
            for (int k = 0; k <= q; k++) {
                m[q][k] = allows(type, q, k);
            }
        }
        return m;
    }

    /** The additive (N, N) mask of {@code type} in {@code dataType}: 0 where allowed, −∞ elsewhere. Cached. */
    public NDArray additive(Type type, DataType dataType) {
        return cached(type + "/" + dataType, () -> {
            if (dataType == DataType.FLOAT32) {
                boolean[][] allowed = booleanMask(type);
                float[] values = new float[length * length];
                for (int q = 0; q < length; q++) {
                    for (int k = 0; k < length; k++) {
                        values[q * length + k] = allowed[q][k] ? 0f : Float.NEGATIVE_INFINITY;
                    }
                }
                return manager.create(values, new Shape(length, length));
            }
            return additive(type, DataType.FLOAT32).toType(dataType, true);
        });
    }

    /**
     * The rows for {@code count} queries at input positions {@code start..start+count−1} against
     * keys {@code 0..start+count−1}: shape (count, start + count). The full mask and single rows
     * are cached and must not be closed by the caller; other slices are created on {@code scratch}.
     */
    public NDArray rows(Type type, int start, int count, DataType dataType, NDManager scratch) {
        int end = start + count;
        if (start < 0 || count < 1 || end > length) {
            throw new IndexOutOfBoundsException("rows " + start + ".." + (end - 1) + " outside 0.." + (length - 1));
        }
        NDArray full = additive(type, dataType);
        if (start == 0 && count == length) {
            return full;
        }
        if (count == 1) {
            return cached(type + "/" + dataType + "/row" + start,
                    () -> full.get(manager, new NDIndex("{}:{}, :{}", start, end, end)));
        }
        return full.get(scratch, new NDIndex("{}:{}, :{}", start, end, end));
    }

    /** Get-or-build without holding the map's lock while building (builders call back into the cache). */
    private NDArray cached(String key, Supplier<NDArray> build) {
        NDArray hit = cache.get(key);
        if (hit != null) {
            return hit;
        }
        NDArray built = build.get();
        NDArray raced = cache.putIfAbsent(key, built);
        if (raced != null) {
            built.close();
            return raced;
        }
        return built;
    }
}
