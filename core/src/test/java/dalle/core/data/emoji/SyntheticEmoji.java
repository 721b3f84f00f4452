package dalle.core.data.emoji;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * A small emoji-datasource package made up for tests, shaped like the real one: four hand gestures with five
 * one-tone variations each (subcategory {@code hand-fingers-open}), a handshake with one two-tone variation,
 * 30 three-word names ({@code <colour> <thing> face}, every word in several names) and two flags. Every picture is a
 * disc of its own colour on a transparent background, with a half-transparent ring.
 */
final class SyntheticEmoji {

    static final List<String> GESTURES = List.of("waving hand", "raised hand", "open hand", "pointing hand");
    static final List<String> COLOURS = List.of("red", "blue", "green", "yellow", "purple", "orange");
    static final List<String> THINGS = List.of("cat", "dog", "moon", "star", "sun");

    private SyntheticEmoji() {}

    /** {@code emoji.json}. */
    static String emojiJson() {
        JsonArray all = new JsonArray();
        int order = 0;
        int cp = 0x1F400;
        for (String g : GESTURES) {
            JsonObject e = entry(g, cp++, "People & Body", "hand-fingers-open", order++, List.of(g.replace(' ', '_')));
            JsonObject skins = new JsonObject();
            for (SkinTone t : SkinTone.values()) {
                skins.add(t.code(), variation(e.get("unified").getAsString() + "-" + t.code()));
            }
            e.add("skin_variations", skins);
            all.add(e);
        }
        JsonObject shake = entry("handshake", cp++, "People & Body", "hands", order++, List.of("handshake"));
        JsonObject skins = new JsonObject();
        skins.add("1F3FB-1F3FF", variation(shake.get("unified").getAsString() + "-1F3FB-1F3FF"));
        shake.add("skin_variations", skins);
        all.add(shake);
        for (String c : COLOURS) {
            for (String t : THINGS) {
                all.add(entry((c + " " + t + " face").toUpperCase(Locale.ROOT), cp++, "Smileys & Emotion", "face-smiling",
                        order++, List.of(c + "_" + t)));
            }
        }
        all.add(entry("Egypt Flag", cp++, "Flags", "country-flag", order++, List.of("flag-eg")));
        all.add(entry("France Flag", cp++, "Flags", "country-flag", order, List.of("fr", "flag-fr")));
        return all.toString();
    }

    private static JsonObject entry(String name, int cp, String category, String sub, int order, List<String> shorts) {
        JsonObject e = variation(Integer.toHexString(cp).toUpperCase(Locale.ROOT));
        e.addProperty("name", name);
        JsonArray s = new JsonArray();
        shorts.forEach(s::add);
        e.add("short_names", s);
        e.addProperty("short_name", shorts.get(0));
        e.addProperty("category", category);
        e.addProperty("subcategory", sub);
        e.addProperty("sort_order", order);
        return e;
    }

    private static JsonObject variation(String unified) {
        JsonObject v = new JsonObject();
        v.addProperty("unified", unified);
        v.addProperty("image", unified.toLowerCase(Locale.ROOT) + ".png");
        v.addProperty("has_img_google", true);
        v.addProperty("has_img_twitter", true);
        return v;
    }

    /** A 64×64 RGBA picture: an opaque disc of a colour derived from {@code seed}, a half-transparent ring, clear outside. */
    static BufferedImage picture(int seed) {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
        int rgb = (seed * 0x9E3779B1) & 0xFFFFFF;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                double r = Math.hypot(x - 31.5, y - 31.5);
                int alpha = r < 20 ? 255 : r < 24 ? 128 : 0;
                img.setRGB(x, y, (alpha << 24) | rgb);
            }
        }
        return img;
    }

    /** A package tarball for {@code vendor}: {@code package/emoji.json} and every picture's PNG. */
    static Path tarball(Path dir, EmojiVendor vendor) throws IOException {
        String json = emojiJson();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{\"name\":\"synthetic\"}".getBytes(StandardCharsets.UTF_8));
        int seed = vendor.ordinal() * 1000;
        for (EmojiPicture p : EmojiCatalog.parse(json).pictures()) {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(picture(seed++), "png", png);
            files.put(vendor.imageDirectory() + p.image(), png.toByteArray());
        }
        files.put("package/emoji.json", json.getBytes(StandardCharsets.UTF_8)); // after the pictures, as it may come
        Path out = dir.resolve(vendor.npmPackage() + ".tgz");
        try (OutputStream os = Files.newOutputStream(out);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(os))) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return out;
    }
}
