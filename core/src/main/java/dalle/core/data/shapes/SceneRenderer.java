package dalle.core.data.shapes;

import dalle.core.image.RgbImage;

/**
 * Draws a {@link Scene} onto a black square image with hard edges (no anti-aliasing): a pixel takes
 * an object's colour when its centre lies inside the shape. Pure Java on the planar float array.
 */
public final class SceneRenderer {

    private SceneRenderer() {}

    /** The scene as a {@code resolution × resolution} image; resolution must be at least 16. */
    public static RgbImage render(Scene scene, int resolution) {
        if (resolution < 16) {
            throw new IllegalArgumentException("resolution " + resolution + " is below the minimum of 16");
        }
        int plane = resolution * resolution;
        float[] chw = new float[3 * plane];
        for (ShapeObject o : scene.objects()) {
            draw(o, resolution, chw);
        }
        return new RgbImage(resolution, resolution, chw);
    }

    private static void draw(ShapeObject o, int res, float[] chw) {
        int plane = res * res;
        double cx = o.cx() * res;
        double cy = o.cy() * res;
        double r = o.radius() * res;
        int x0 = Math.max(0, (int) Math.floor(cx - r));
        int x1 = Math.min(res - 1, (int) Math.ceil(cx + r));
        int y0 = Math.max(0, (int) Math.floor(cy - r));
        int y1 = Math.min(res - 1, (int) Math.ceil(cy + r));
        float red = o.colour().channel(0);
        float green = o.colour().channel(1);
        float blue = o.colour().channel(2);
        for (int y = y0; y <= y1; y++) {
            double v = (y + 0.5 - cy) / r;
            for (int x = x0; x <= x1; x++) {
                if (o.shape().contains((x + 0.5 - cx) / r, v)) {
                    int i = y * res + x;
                    chw[i] = red;
                    chw[plane + i] = green;
                    chw[2 * plane + i] = blue;
                }
            }
        }
    }
}
