package dalle.core.data.emoji;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The pictures {@code emoji.json} (iamcal/emoji-data) describes: every emoji and every skin-tone variation, in
 * Unicode's order (an emoji, then its variations in {@code emoji.json}'s order).
 */
public final class EmojiCatalog {

    private final List<EmojiPicture> pictures;

    private EmojiCatalog(List<EmojiPicture> pictures) {
        this.pictures = List.copyOf(pictures);
    }

    /**
     * Parses {@code emoji.json}.
     *
     * @throws IllegalArgumentException naming the entry when the file is not the expected array of emoji objects
     */
    public static EmojiCatalog parse(String json) {
        JsonArray entries;
        try {
            entries = JsonParser.parseString(json).getAsJsonArray();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("emoji.json is not a JSON array: " + e.getMessage(), e);
        }
        List<JsonObject> sorted = new ArrayList<>();
        for (JsonElement e : entries) {
            sorted.add(e.getAsJsonObject());
        }
        sorted.sort(Comparator.comparingInt(o -> o.get("sort_order").getAsInt()));
        List<EmojiPicture> out = new ArrayList<>();
        for (JsonObject o : sorted) {
            try {
                String name = string(o, "name").toLowerCase(Locale.ROOT);
                List<String> shortNames = new ArrayList<>();
                for (JsonElement s : o.getAsJsonArray("short_names")) {
                    shortNames.add(s.getAsString());
                }
                String category = string(o, "category").toLowerCase(Locale.ROOT);
                String subcategory = string(o, "subcategory");
                int order = o.get("sort_order").getAsInt();
                out.add(new EmojiPicture(string(o, "unified"), string(o, "image"), name, shortNames, category,
                        subcategory, order, List.of(), vendors(o)));
                JsonObject variations = o.getAsJsonObject("skin_variations");
                if (variations != null) {
                    for (Map.Entry<String, JsonElement> v : variations.entrySet()) {
                        List<SkinTone> tones = new ArrayList<>();
                        for (String t : v.getKey().split("-")) {
                            tones.add(SkinTone.ofCode(t));
                        }
                        JsonObject vo = v.getValue().getAsJsonObject();
                        out.add(new EmojiPicture(string(vo, "unified"), string(vo, "image"), name, shortNames, category,
                                subcategory, order, tones, vendors(vo)));
                    }
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("emoji.json entry " + o.get("unified") + ": " + e.getMessage(), e);
            }
        }
        return new EmojiCatalog(out);
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        return e.getAsString();
    }

    private static Set<EmojiVendor> vendors(JsonObject o) {
        Set<EmojiVendor> out = EnumSet.noneOf(EmojiVendor.class);
        for (EmojiVendor v : EmojiVendor.values()) {
            JsonElement has = o.get("has_img_" + v.id());
            if (has != null && has.getAsBoolean()) {
                out.add(v);
            }
        }
        return out;
    }

    /** Every picture, in Unicode's order. */
    public List<EmojiPicture> pictures() {
        return pictures;
    }

    /** The pictures {@code vendor} draws, in Unicode's order. */
    public List<EmojiPicture> pictures(EmojiVendor vendor) {
        return pictures.stream().filter(p -> p.vendors().contains(vendor)).toList();
    }
}
