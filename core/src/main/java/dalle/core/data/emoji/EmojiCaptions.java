package dalle.core.data.emoji;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The caption of a picture, written from {@code emoji.json}'s metadata, most important words first (the prior
 * cuts a caption to its text length from the end):
 *
 * <pre>
 *   {vendor} {name}[, {tone} skin tone[, {tone} skin tone]]; {short names}; {category}, {subcategory words}
 *   twemoji thumbs up sign, medium skin tone; +1, thumbsup; people &amp; body, hand fingers closed
 *   noto emoji egypt flag; flag eg; flags, country flag
 * </pre>
 *
 * Short names have {@code _}, and {@code -} between letters or digits, as spaces ({@code -1} stays); those equal to the name are left out (after that
 * normalisation), and so is the short-name part when none is left. Everything is lower case.
 */
public final class EmojiCaptions {

    private EmojiCaptions() {}

    /** The caption of {@code picture} as drawn by {@code vendor}. */
    public static String caption(EmojiPicture picture, EmojiVendor vendor) {
        StringBuilder s = new StringBuilder(vendor.captionWords()).append(' ').append(picture.name());
        for (SkinTone t : picture.tones()) {
            s.append(", ").append(t.caption());
        }
        List<String> shortNames = shortNames(picture);
        if (!shortNames.isEmpty()) {
            s.append("; ").append(String.join(", ", shortNames));
        }
        s.append("; ").append(picture.category()).append(", ").append(words(picture.subcategory()));
        return s.toString().toLowerCase(Locale.ROOT);
    }

    private static List<String> shortNames(EmojiPicture picture) {
        Set<String> out = new LinkedHashSet<>();
        String name = words(picture.name());
        for (String s : picture.shortNames()) {
            String w = words(s);
            if (!w.isEmpty() && !w.equals(name)) {
                out.add(w);
            }
        }
        return new ArrayList<>(out);
    }

    /** {@code hand-fingers_closed} -> {@code hand fingers closed}: {@code _}, and {@code -} inside a word, become spaces. */
    static String words(String s) {
        return java.util.Arrays.stream(s.toLowerCase(Locale.ROOT).split("[_\\s]+|(?<=\\p{Alnum})-(?=\\p{Alnum})"))
                .filter(w -> !w.isEmpty()).collect(Collectors.joining(" "));
    }
}
