package dalle.core.data.shapes;

import dalle.core.image.RgbImage;

/**
 * How much of one detected object's colour each pixel around it holds, in [0, 1] ("alpha"), over
 * the object's pixels and their one-pixel halo (where a blur spreads the colour). Its total is the
 * object's area and its centroid the object's centroid even after a symmetric blur, which lets the
 * {@link Oracle} fit each shape hypothesis without searching. Pixel coordinates throughout; pixel
 * {@code (x, y)} has its centre at {@code (x + 0.5, y + 0.5)}.
 */
final class SoftCoverage {

    private final int gx0;
    private final int gy0;
    private final int gw;
    private final int gh;
    private final float[] alpha;
    private final double mass;
    private final double centroidX;
    private final double centroidY;

    /**
     * @param label component id per pixel (0 = background), {@code id} this object's
     * @param x0 left column of the object's bounding box (inclusive; likewise the others)
     */
    SoftCoverage(RgbImage image, float[] bg, Colour colour, int[] label, int id, int x0, int x1, int y0, int y1) {
        int w = image.width();
        int h = image.height();
        int plane = w * h;
        float[] px = image.chw();
        gx0 = Math.max(0, x0 - 1);
        gy0 = Math.max(0, y0 - 1);
        gw = Math.min(w - 1, x1 + 1) - gx0 + 1;
        gh = Math.min(h - 1, y1 + 1) - gy0 + 1;
        alpha = new float[gw * gh];
        float[] col = new float[3];
        float norm = 0;
        for (int c = 0; c < 3; c++) {
            col[c] = colour.channel(c) - bg[c];
            norm += col[c] * col[c];
        }
        double m = 0;
        double sx = 0;
        double sy = 0;
        for (int y = gy0; y < gy0 + gh; y++) {
            for (int x = gx0; x < gx0 + gw; x++) {
                int p = y * w + x;
                if (!(label[p] == id || label[p] == 0 && touches(label, w, h, x, y, id))) {
                    continue;
                }
                float dot = 0;
                for (int c = 0; c < 3; c++) {
                    dot += (px[c * plane + p] - bg[c]) * col[c];
                }
                float a = Math.max(0f, Math.min(1f, dot / norm)); // projection onto the object's colour
                alpha[(y - gy0) * gw + (x - gx0)] = a;
                m += a;
                sx += a * (x + 0.5);
                sy += a * (y + 0.5);
            }
        }
        mass = m;
        centroidX = sx / m;
        centroidY = sy / m;
    }

    /** Total coverage: the object's area in pixels. */
    double mass() {
        return mass;
    }

    /** Coverage-weighted centroid, pixels from the left edge. */
    double centroidX() {
        return centroidX;
    }

    /** Coverage-weighted centroid, pixels from the top edge. */
    double centroidY() {
        return centroidY;
    }

    /**
     * Soft intersection over union ({@code Σ min / Σ max}) of the coverage with {@code shape} drawn
     * at centre {@code (cx, cy)} and radius {@code r} (pixels), the better of the sharp drawing and
     * the drawing blurred by a 3×3 box.
     */
    double overlap(ShapeKind shape, double cx, double cy, double r) {
        // Template box: the shape's square plus 2 pixels (1 for the blur, 1 for rounding), joined with the grid.
        int ux0 = Math.min(gx0, (int) Math.floor(cx - r) - 2);
        int uy0 = Math.min(gy0, (int) Math.floor(cy - r) - 2);
        int ux1 = Math.max(gx0 + gw - 1, (int) Math.ceil(cx + r) + 2);
        int uy1 = Math.max(gy0 + gh - 1, (int) Math.ceil(cy + r) + 2);
        int uw = ux1 - ux0 + 1;
        int uh = uy1 - uy0 + 1;
        boolean[] sharp = new boolean[uw * uh];
        for (int y = 0; y < uh; y++) {
            double v = (uy0 + y + 0.5 - cy) / r;
            for (int x = 0; x < uw; x++) {
                sharp[y * uw + x] = shape.contains((ux0 + x + 0.5 - cx) / r, v);
            }
        }
        double minSharp = 0;
        double maxSharp = 0;
        double minBlur = 0;
        double maxBlur = 0;
        for (int y = 0; y < uh; y++) {
            for (int x = 0; x < uw; x++) {
                double a = alphaAt(ux0 + x, uy0 + y);
                double t = sharp[y * uw + x] ? 1 : 0;
                minSharp += Math.min(a, t);
                maxSharp += Math.max(a, t);
                int count = 0;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = x + dx;
                        int ny = y + dy;
                        if (nx >= 0 && ny >= 0 && nx < uw && ny < uh && sharp[ny * uw + nx]) {
                            count++;
                        }
                    }
                }
                double b = count / 9.0;
                minBlur += Math.min(a, b);
                maxBlur += Math.max(a, b);
            }
        }
        return Math.max(minSharp / maxSharp, minBlur / maxBlur);
    }

    private double alphaAt(int x, int y) {
        int gx = x - gx0;
        int gy = y - gy0;
        return gx >= 0 && gy >= 0 && gx < gw && gy < gh ? alpha[gy * gw + gx] : 0;
    }

    private static boolean touches(int[] label, int w, int h, int x, int y, int id) {
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int nx = x + dx;
                int ny = y + dy;
                if (nx >= 0 && ny >= 0 && nx < w && ny < h && label[ny * w + nx] == id) {
                    return true;
                }
            }
        }
        return false;
    }
}
