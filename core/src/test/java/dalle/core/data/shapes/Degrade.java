package dalle.core.data.shapes;

import dalle.core.image.RgbImage;
import java.util.SplittableRandom;

/** Test stand-in for a dVAE reconstruction's damage: a 3×3 box blur, then Gaussian colour noise. */
final class Degrade {

    private Degrade() {}

    /** Box-blurs each channel over 3×3 (edges average the pixels that exist), adds N(0, sigma²), clamps to [0, 1]. */
    static RgbImage blurAndNoise(RgbImage image, double sigma, SplittableRandom rng) {
        int w = image.width();
        int h = image.height();
        float[] out = new float[3 * w * h];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float sum = 0;
                    int n = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            int nx = x + dx;
                            int ny = y + dy;
                            if (nx >= 0 && ny >= 0 && nx < w && ny < h) {
                                sum += image.get(c, nx, ny);
                                n++;
                            }
                        }
                    }
                    float v = (float) (sum / n + sigma * gaussian(rng));
                    out[(c * h + y) * w + x] = Math.max(0f, Math.min(1f, v));
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble(); // (0, 1]: log is finite
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
