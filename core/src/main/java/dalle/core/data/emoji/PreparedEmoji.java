package dalle.core.data.emoji;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dalle.core.data.readers.DataSourceException;
import dalle.core.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A folder written by {@link EmojiPreparation}, read back: its {@code index.json} and the pictures it lists.
 */
public final class PreparedEmoji {

    private final Path root;
    private final EmojiPreparation.Index index;

    private PreparedEmoji(Path root, EmojiPreparation.Index index) {
        this.root = root;
        this.index = index;
    }

    /**
     * @throws DataSourceException naming the folder and what to run when it holds no prepared emoji data
     */
    public static PreparedEmoji open(Path root) {
        Path file = root.resolve(EmojiPreparation.INDEX);
        if (!Files.isRegularFile(file)) {
            throw new DataSourceException(root, "holds no prepared emoji data (no " + EmojiPreparation.INDEX
                    + "); prepare it with: dalle data emoji --out " + root);
        }
        try {
            EmojiPreparation.Index index = new Gson().fromJson(Files.readString(file), EmojiPreparation.Index.class);
            if (index == null || index.format() != EmojiPreparation.Index.FORMAT || index.pictures() == null) {
                throw new DataSourceException(file, "not an emoji index of format " + EmojiPreparation.Index.FORMAT);
            }
            return new PreparedEmoji(root, index);
        } catch (IOException | JsonParseException e) {
            throw new DataSourceException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    public Path root() {
        return root;
    }

    public EmojiPreparation.Index index() {
        return index;
    }

    /** Every picture, in the index's order (training pictures in their shuffled order, then the held-out ones). */
    public List<EmojiPreparation.Entry> pictures() {
        return index.pictures();
    }

    /** The vendors the folder holds, in {@link EmojiVendor} order. */
    public List<EmojiVendor> vendors() {
        return index.packages().stream().map(p -> EmojiVendor.of(p.get("vendor"))).sorted().toList();
    }

    /** Whether {@code e} is held out of training. */
    public static boolean heldOut(EmojiPreparation.Entry e) {
        return !e.split().equals("train");
    }

    /** The split kind of {@code e}. */
    public static EmojiSplit.Kind kind(EmojiPreparation.Entry e) {
        return EmojiSplit.Kind.valueOf(e.split().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /**
     * The picture of {@code e} as stored (64×64, composited).
     *
     * @throws DataSourceException naming the file when it is missing or unreadable
     */
    public RgbImage image(EmojiPreparation.Entry e) {
        Path file = root.resolve(e.file());
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new DataSourceException(file, "is not a readable image");
            }
            return RgbImage.from(img);
        } catch (IOException ex) {
            throw new DataSourceException(file, "cannot be read: " + ex.getMessage(), ex);
        }
    }
}
