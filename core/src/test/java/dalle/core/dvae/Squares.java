package dalle.core.dvae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** Test images: a flat background with one axis-aligned coloured square, drawn from a seed. */
final class Squares {

    private Squares() {}

    /** (count, 3, size, size) in [0, 1]. */
    static NDArray batch(NDManager manager, int count, int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int plane = size * size;
        float[] v = new float[count * 3 * plane];
        for (int i = 0; i < count; i++) {
            float[] background = {rng.nextFloat(), rng.nextFloat(), rng.nextFloat()};
            float[] colour = {rng.nextFloat(), rng.nextFloat(), rng.nextFloat()};
            int side = size / 4 + rng.nextInt(size / 2);
            int x0 = rng.nextInt(size - side + 1);
            int y0 = rng.nextInt(size - side + 1);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        boolean inside = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
                        v[(i * 3 + c) * plane + y * size + x] = inside ? colour[c] : background[c];
                    }
                }
            }
        }
        return manager.create(v, new Shape(count, 3, size, size));
    }
}
