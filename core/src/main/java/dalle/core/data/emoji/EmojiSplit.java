package dalle.core.data.emoji;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which pictures training never sees, so that generating them tests zero-shot composition. Deterministic: a
 * function of {@code emoji.json} alone (the pinned package versions fix it), the same for both vendors.
 *
 * <ul>
 *   <li><b>Gesture × skin-tone pairs</b> ({@link Kind#HELD_OUT_PAIR}): the gestures are the emoji of the hand
 *       subcategories ({@link #GESTURE_SUBCATEGORIES}) that have one-tone variations, in Unicode's order. Gesture
 *       number {@code i} (0-based) with {@code i} even loses its one-tone variation in tone
 *       {@code SkinTone.values()[(i / 2) % 5]}: every held-out gesture keeps its other four tones and its
 *       yellow default in training, and every tone stays in training with the other gestures.</li>
 *   <li><b>Whole names</b> ({@link Kind#HELD_OUT_NAME}): {@link #HELD_OUT_NAMES} emoji, every picture of them
 *       (skin tones included). Candidates are the emoji outside flags, components and the gestures whose name has
 *       at least two words, each of which also occurs in another emoji's name (so the words, though not their
 *       combination, can be learned); in Unicode's order, with {@code k = candidates / 24} (integer division), candidates
 *       {@code k/2, k/2 + k, ...} are held out.</li>
 * </ul>
 */
public final class EmojiSplit {

    /** Where a picture belongs. */
    public enum Kind {
        TRAIN("train"),
        HELD_OUT_PAIR("held-out gesture × skin tone"),
        HELD_OUT_NAME("held-out name");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public boolean heldOut() {
            return this != TRAIN;
        }
    }

    /** {@code emoji.json} subcategories whose emoji are hand gestures. */
    public static final List<String> GESTURE_SUBCATEGORIES = List.of("hand-fingers-open", "hand-fingers-partial",
            "hand-single-finger", "hand-fingers-closed", "hands", "hand-prop");

    /** Emoji held out by name. */
    public static final int HELD_OUT_NAMES = 24;

    private final Map<String, Kind> byCode = new HashMap<>();
    private final Map<String, SkinTone> heldOutPairs = new LinkedHashMap<>();
    private final List<String> heldOutNames = new ArrayList<>();

    /** The split of {@code catalog}'s pictures, {@link #HELD_OUT_NAMES} names held out. */
    public EmojiSplit(EmojiCatalog catalog) {
        this(catalog, HELD_OUT_NAMES);
    }

    /**
     * The split of {@code catalog}'s pictures with {@code names} names held out (the rule above with 24 replaced).
     *
     * @throws IllegalArgumentException when there are fewer candidate names than {@code names}
     */
    public EmojiSplit(EmojiCatalog catalog, int names) {
        List<EmojiPicture> emoji = catalog.pictures().stream().filter(p -> !p.hasTone()).toList();
        // gesture × tone pairs
        Set<String> toned = new HashSet<>();
        catalog.pictures().stream().filter(p -> p.tones().size() == 1).forEach(p -> toned.add(p.name()));
        List<EmojiPicture> gestures = emoji.stream()
                .filter(p -> GESTURE_SUBCATEGORIES.contains(p.subcategory()) && toned.contains(p.name())).toList();
        for (int i = 0; i < gestures.size(); i += 2) {
            heldOutPairs.put(gestures.get(i).name(), SkinTone.values()[(i / 2) % SkinTone.values().length]);
        }
        // whole names
        Map<String, Integer> wordCounts = new HashMap<>();
        for (EmojiPicture p : emoji) {
            for (String w : new HashSet<>(words(p.name()))) {
                wordCounts.merge(w, 1, Integer::sum);
            }
        }
        List<EmojiPicture> candidates = emoji.stream()
                .filter(p -> !p.category().equals("flags") && !p.category().equals("component")
                        && !GESTURE_SUBCATEGORIES.contains(p.subcategory()))
                .filter(p -> words(p.name()).size() >= 2 && words(p.name()).stream().allMatch(w -> wordCounts.get(w) >= 2))
                .toList();
        if (names < 0) {
            throw new IllegalArgumentException("names to hold out must be non-negative, got " + names);
        }
        int k = names == 0 ? 1 : candidates.size() / names;
        if (k < 1) {
            throw new IllegalArgumentException("only " + candidates.size() + " candidate names to hold out "
                    + names + " from");
        }
        for (int j = 0; j < names; j++) {
            heldOutNames.add(candidates.get(k / 2 + j * k).name());
        }
        for (EmojiPicture p : catalog.pictures()) {
            Kind kind = Kind.TRAIN;
            if (heldOutNames.contains(p.name())) {
                kind = Kind.HELD_OUT_NAME;
            } else if (p.tones().size() == 1 && heldOutPairs.get(p.name()) == p.tones().get(0)) {
                kind = Kind.HELD_OUT_PAIR;
            }
            byCode.put(p.code(), kind);
        }
    }

    /** Where {@code picture} belongs. */
    public Kind kind(EmojiPicture picture) {
        Kind k = byCode.get(picture.code());
        if (k == null) {
            throw new IllegalArgumentException("picture " + picture.code() + " is not in the catalog of this split");
        }
        return k;
    }

    /** The held-out gesture × tone pairs: gesture name to the tone it is not shown in, in Unicode's order. */
    public Map<String, SkinTone> heldOutPairs() {
        return java.util.Collections.unmodifiableMap(heldOutPairs);
    }

    /** The emoji held out by name, in Unicode's order. */
    public List<String> heldOutNames() {
        return List.copyOf(heldOutNames);
    }

    /** Lower-case words of a name: runs of letters and digits. */
    static List<String> words(String name) {
        List<String> out = new ArrayList<>();
        for (String w : name.toLowerCase(Locale.ROOT).split("[^\\p{Alnum}]+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    /** Words of held-out names that no training caption's name has (empty when every word was learnable). */
    public Set<String> unseenWords(EmojiCatalog catalog) {
        Set<String> seen = new HashSet<>();
        for (EmojiPicture p : catalog.pictures()) {
            if (kind(p) == Kind.TRAIN) {
                seen.addAll(words(p.name()));
            }
        }
        Set<String> out = new java.util.TreeSet<>();
        for (String n : heldOutNames) {
            for (String w : words(n)) {
                if (!seen.contains(w)) {
                    out.add(w);
                }
            }
        }
        return out;
    }
}
