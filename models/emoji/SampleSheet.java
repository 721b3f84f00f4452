import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * A contact sheet for the model card: one row per caption, the true rendering first, then the generated images best
 * first, each scaled ×2 (nearest neighbour) on a grey grid.
 *
 * <pre>java models/emoji/SampleSheet.java OUT.png K TRUTH.png:GEN_DIR [TRUTH.png:GEN_DIR ...]</pre>
 *
 * GEN_DIR is a {@code dalle generate} output folder (top-1.png ... top-K.png).
 */
public class SampleSheet {
    static final int SCALE = 2;
    static final int GAP = 4;

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: SampleSheet OUT.png K TRUTH.png:GEN_DIR...");
        }
        int k = Integer.parseInt(args[1]);
        int rows = args.length - 2;
        int cell = 64 * SCALE;
        int width = GAP + (k + 1) * (cell + GAP) + GAP;   // an extra gap between the truth and the samples
        int height = GAP + rows * (cell + GAP);
        BufferedImage sheet = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setColor(new Color(0x80, 0x80, 0x80));
        g.fillRect(0, 0, width, height);
        for (int r = 0; r < rows; r++) {
            String[] pair = args[r + 2].split(":", 2);
            int y = GAP + r * (cell + GAP);
            draw(g, new File(pair[0]), GAP, y, cell);
            for (int i = 1; i <= k; i++) {
                draw(g, new File(pair[1], "top-" + i + ".png"), GAP + i * (cell + GAP) + GAP, y, cell);
            }
        }
        g.dispose();
        ImageIO.write(sheet, "png", new File(args[0]));
    }

    private static void draw(Graphics2D g, File png, int x, int y, int cell) throws IOException {
        BufferedImage image = ImageIO.read(png);
        if (image == null) {
            throw new IOException(png + " is not an image");
        }
        g.drawImage(image, x, y, cell, cell, null);
    }
}
