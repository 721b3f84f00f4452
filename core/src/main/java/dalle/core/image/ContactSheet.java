package dalle.core.image;

import java.util.List;

/** Lays images of one size out on a grid (row-major, in list order) with a gap between cells. */
public final class ContactSheet {

    private ContactSheet() {}

    /**
     * @param columns cells per row (rows follow from the count)
     * @param scale nearest-neighbour upscaling of each cell (1 = none)
     * @param gap pixels of mid-grey between cells
     */
    public static RgbImage render(List<RgbImage> images, int columns, int scale, int gap) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a contact sheet needs at least one image");
        }
        if (columns < 1 || scale < 1 || gap < 0) {
            throw new IllegalArgumentException("columns and scale must be >= 1 and gap >= 0, got " + columns + ", "
                    + scale + ", " + gap);
        }
        int cw = images.get(0).width() * scale;
        int ch = images.get(0).height() * scale;
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        int w = cols * cw + (cols + 1) * gap;
        int h = rows * ch + (rows + 1) * gap;
        float[] v = new float[3 * w * h];
        java.util.Arrays.fill(v, 0.5f);
        for (int n = 0; n < images.size(); n++) {
            RgbImage im = images.get(n);
            if (im.width() * scale != cw || im.height() * scale != ch) {
                throw new IllegalArgumentException("image " + n + " is " + im.width() + "x" + im.height()
                        + ", the sheet's cells are " + cw / scale + "x" + ch / scale);
            }
            int ox = gap + (n % cols) * (cw + gap);
            int oy = gap + (n / cols) * (ch + gap);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < ch; y++) {
                    for (int x = 0; x < cw; x++) {
                        v[(c * h + oy + y) * w + ox + x] = im.get(c, x / scale, y / scale);
                    }
                }
            }
        }
        return new RgbImage(w, h, v);
    }
}
