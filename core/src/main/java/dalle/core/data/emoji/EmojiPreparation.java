package dalle.core.data.emoji;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dalle.core.image.RgbImage;
import dalle.core.io.DurableFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Turns the {@code emoji-datasource-*} npm tarballs into a captioned data set on disk: every 64×64 picture's
 * alpha composited onto a plain background, captioned by {@link EmojiCaptions}, split by {@link EmojiSplit}.
 *
 * <p>Layout of the output folder ({@link dalle.core.data.readers.FolderReader}'s format: image + same-name
 * {@code .txt}):
 * <pre>
 *   train/00000-twitter-1f44d-1f3fd.png + .txt   training pictures of every vendor, named by their position in
 *                                                a seeded shuffle, so that a reader's path order is shuffled
 *   held-out/google-1f44d-1f3ff.png + .txt       held-out pictures (both kinds)
 *   index.json                                   every picture: vendor, code, name, tones, caption, split, file;
 *                                                the packages (version, integrity), background, seed, the split
 *   ATTRIBUTION.md                               the pictures' licences and attributions
 * </pre>
 * The same tarballs, background and seed give the same files, byte for byte.
 */
public final class EmojiPreparation {

    /** {@code index.json}'s name in a prepared folder. */
    public static final String INDEX = "index.json";
    public static final String TRAIN_DIR = "train";
    public static final String HELD_OUT_DIR = "held-out";
    public static final String ATTRIBUTION = "ATTRIBUTION.md";
    /** The pictures' side in the packages and in the prepared data. */
    public static final int SIZE = 64;

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /**
     * What to prepare.
     *
     * @param tarballs each vendor's downloaded (and verified) package tarball, in vendor order
     * @param background RGB of the background the alpha is composited onto, {@code 0xRRGGBB}
     * @param seed the shuffle of the training pictures
     */
    public record Settings(Map<EmojiVendor, Path> tarballs, int background, long seed) {
        public Settings {
            if (tarballs.isEmpty()) {
                throw new IllegalArgumentException("at least one vendor's tarball is needed");
            }
            tarballs = java.util.Collections.unmodifiableMap(new EnumMap<>(tarballs));
            if ((background & ~0xFFFFFF) != 0) {
                throw new IllegalArgumentException("background must be 0xRRGGBB, got " + Integer.toHexString(background));
            }
        }
    }

    /** A package's files this preparation reads. */
    private record PackageFiles(byte[] emojiJson, Map<String, byte[]> pngs) {}

    /** One picture as {@code index.json} lists it. */
    public record Entry(String vendor, String code, String name, List<String> tones, String caption, String split,
                        String file) {}

    /** {@code index.json}. */
    public record Index(int format, List<Map<String, String>> packages, String background, long seed,
                        Map<String, String> heldOutPairs, List<String> heldOutNames, List<String> unseenNameWords,
                        Map<String, Integer> counts, List<Entry> pictures) {
        public static final int FORMAT = 1;
    }

    private EmojiPreparation() {}

    /**
     * Prepares {@code out} (which must not exist) from {@code settings}, telling {@code progress} a line per stage.
     *
     * @return the index written
     * @throws IOException when a tarball cannot be read, lacks {@code emoji.json} or a picture, or a file cannot be
     *     written
     */
    public static Index prepare(Settings settings, Path out, Consumer<String> progress) throws IOException {
        if (Files.exists(out)) {
            throw new IOException(out + " already exists");
        }
        Map<EmojiVendor, PackageFiles> files = new EnumMap<>(EmojiVendor.class);
        for (Map.Entry<EmojiVendor, Path> t : settings.tarballs().entrySet()) {
            progress.accept("reading " + t.getValue().getFileName() + " ...");
            PackageFiles f = read(t.getKey(), t.getValue());
            progress.accept("  emoji.json and " + f.pngs().size() + " pictures of " + t.getKey().id());
            files.put(t.getKey(), f);
        }
        // one catalog: the packages of one version ship the same emoji.json
        EmojiVendor first = files.keySet().iterator().next();
        byte[] json = files.get(first).emojiJson();
        for (Map.Entry<EmojiVendor, PackageFiles> f : files.entrySet()) {
            if (!java.util.Arrays.equals(json, f.getValue().emojiJson())) {
                throw new IOException("the packages of " + first.id() + " and " + f.getKey().id()
                        + " ship different emoji.json files; use packages of one emoji-datasource version");
            }
        }
        EmojiCatalog catalog = EmojiCatalog.parse(new String(json, StandardCharsets.UTF_8));
        EmojiSplit split = new EmojiSplit(catalog);

        List<Entry> train = new ArrayList<>();
        List<Entry> heldOut = new ArrayList<>();
        Map<Entry, RgbImage> images = new HashMap<>();
        for (Map.Entry<EmojiVendor, PackageFiles> f : files.entrySet()) {
            EmojiVendor vendor = f.getKey();
            for (EmojiPicture p : catalog.pictures(vendor)) {
                byte[] png = f.getValue().pngs().get(p.image());
                if (png == null) {
                    throw new IOException(settings.tarballs().get(vendor) + " has no " + vendor.imageDirectory()
                            + p.image() + ", which emoji.json lists");
                }
                RgbImage image = composite(decode(png, vendor.imageDirectory() + p.image()), settings.background());
                EmojiSplit.Kind kind = split.kind(p);
                Entry e = new Entry(vendor.id(), p.code(), p.name(), p.tones().stream().map(SkinTone::name).toList(),
                        EmojiCaptions.caption(p, vendor), kind.name().toLowerCase(Locale.ROOT).replace('_', '-'), null);
                (kind.heldOut() ? heldOut : train).add(e);
                images.put(e, image);
            }
            progress.accept("  composited " + catalog.pictures(vendor).size() + " pictures of " + vendor.id());
        }
        // the training order: a seeded Fisher-Yates shuffle, written into the file names
        SplittableRandom rng = new SplittableRandom(settings.seed());
        for (int i = train.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Entry tmp = train.get(i);
            train.set(i, train.get(j));
            train.set(j, tmp);
        }
        Path tmp = out.resolveSibling(out.getFileName() + ".partial");
        if (Files.exists(tmp)) {
            DurableFiles.deleteRecursively(tmp);
        }
        Files.createDirectories(tmp.resolve(TRAIN_DIR));
        Files.createDirectories(tmp.resolve(HELD_OUT_DIR));
        List<Entry> written = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            Entry e = train.get(i);
            String stem = TRAIN_DIR + "/" + String.format(Locale.ROOT, "%05d-%s-%s", i, e.vendor(),
                    e.code().toLowerCase(Locale.ROOT));
            written.add(write(tmp, stem, e, images.get(e)));
        }
        for (Entry e : heldOut) {
            String stem = HELD_OUT_DIR + "/" + e.vendor() + "-" + e.code().toLowerCase(Locale.ROOT);
            written.add(write(tmp, stem, e, images.get(e)));
        }
        progress.accept("  wrote " + train.size() + " training and " + heldOut.size() + " held-out pictures");

        List<Map<String, String>> packages = new ArrayList<>();
        for (Map.Entry<EmojiVendor, Path> t : settings.tarballs().entrySet()) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("vendor", t.getKey().id());
            m.put("package", t.getKey().npmPackage());
            m.put("version", t.getKey().version());
            m.put("integrity", t.getKey().integrity());
            m.put("licence", t.getKey().licence());
            packages.add(m);
        }
        Map<String, String> pairs = new LinkedHashMap<>();
        split.heldOutPairs().forEach((name, tone) -> pairs.put(name, tone.name()));
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Entry e : written) {
            counts.merge(e.vendor() + " " + e.split(), 1, Integer::sum);
        }
        Index index = new Index(Index.FORMAT, packages, String.format(Locale.ROOT, "#%06x", settings.background()),
                settings.seed(), pairs, split.heldOutNames(), List.copyOf(split.unseenWords(catalog)), counts, written);
        Files.writeString(tmp.resolve(INDEX), GSON.toJson(index) + "\n");
        Files.writeString(tmp.resolve(ATTRIBUTION), attribution(settings.tarballs().keySet()));
        DurableFiles.move(tmp, out);
        return index;
    }

    private static Entry write(Path root, String stem, Entry e, RgbImage image) throws IOException {
        Files.write(root.resolve(stem + ".png"), image.toPng());
        Files.writeString(root.resolve(stem + ".txt"), e.caption() + "\n");
        return new Entry(e.vendor(), e.code(), e.name(), e.tones(), e.caption(), e.split(), stem + ".png");
    }

    /** The licences and attributions of the vendors' pictures, as Markdown. */
    public static String attribution(Iterable<EmojiVendor> vendors) {
        StringBuilder s = new StringBuilder("# Attribution\n\nThe pictures in this folder are derived from:\n\n");
        for (EmojiVendor v : vendors) {
            s.append("- **").append(v.captionWords()).append("** (").append(v.licence()).append("): ")
                    .append(v.attribution()).append('\n');
        }
        s.append("\nThe metadata (emoji.json: names, short names, categories) is from iamcal/emoji-data"
                + " (MIT, Copyright (c) 2013 Cal Henderson).\n");
        return s.toString();
    }

    /** {@code package/emoji.json} and the 64×64 PNGs of {@code vendor} in a package tarball. */
    private static PackageFiles read(EmojiVendor vendor, Path tarball) throws IOException {
        byte[] json = null;
        Map<String, byte[]> pngs = new HashMap<>();
        String dir = vendor.imageDirectory();
        try (InputStream in = Files.newInputStream(tarball);
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(
                     new java.io.BufferedInputStream(in)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String name = entry.getName();
                if (!entry.isFile()) {
                    continue;
                }
                if (name.equals("package/emoji.json")) {
                    json = tar.readAllBytes();
                } else if (name.startsWith(dir) && name.endsWith(".png") && name.indexOf('/', dir.length()) < 0) {
                    pngs.put(name.substring(dir.length()), tar.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new IOException(tarball + " is not a readable .tgz: " + e.getMessage(), e);
        }
        if (json == null) {
            throw new IOException(tarball + " has no package/emoji.json: is it an emoji-datasource package?");
        }
        if (pngs.isEmpty()) {
            throw new IOException(tarball + " has no pictures under " + dir + ": is it " + vendor.npmPackage() + "?");
        }
        return new PackageFiles(json, pngs);
    }

    private static BufferedImage decode(byte[] png, String name) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        if (img == null) {
            throw new IOException(name + " is not a readable PNG");
        }
        if (img.getWidth() != SIZE || img.getHeight() != SIZE) {
            throw new IOException(name + " is " + img.getWidth() + "x" + img.getHeight() + ", expected " + SIZE
                    + "x" + SIZE);
        }
        return img;
    }

    /**
     * The image over an opaque {@code background}: {@code α·c + (1 − α)·bg} per 8-bit sRGB channel (what a browser
     * shows), from the non-premultiplied ARGB that {@link BufferedImage#getRGB} gives for any PNG type.
     */
    public static RgbImage composite(BufferedImage img, int background) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] v = new float[3 * w * h];
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                float a = ((argb >>> 24) & 0xff) / 255f;
                for (int c = 0; c < 3; c++) {
                    int shift = 16 - 8 * c;
                    float fg = ((argb >> shift) & 0xff) / 255f;
                    float bg = ((background >> shift) & 0xff) / 255f;
                    v[c * plane + y * w + x] = a * fg + (1 - a) * bg;
                }
            }
        }
        return new RgbImage(w, h, v);
    }
}
