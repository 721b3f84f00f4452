package dalle.core.data.emoji;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One picture of the emoji list, independent of who drew it: an emoji, or one of its skin-tone variations.
 *
 * @param code the code points in upper-case hex joined by {@code -}, as {@code emoji.json}'s {@code unified}:
 *     {@code 1F44D-1F3FD}
 * @param image the PNG's file name in every vendor's {@code 64/} folder: {@code 1f44d-1f3fd.png}
 * @param name the emoji's name, lower-cased ({@code thumbs up sign}); a variation has its emoji's name
 * @param shortNames the emoji's short names ({@code +1}, {@code thumbsup}), in {@code emoji.json}'s order
 * @param category {@code emoji.json}'s category, lower-cased: {@code people & body}
 * @param subcategory {@code emoji.json}'s subcategory: {@code hand-fingers-closed}
 * @param sortOrder the emoji's position in Unicode's ordering (shared by its variations)
 * @param tones the skin tones of a variation, in order (two for a couple or a handshake); empty for the emoji itself
 * @param vendors the artwork sets that draw this picture
 */
public record EmojiPicture(String code, String image, String name, List<String> shortNames, String category,
                           String subcategory, int sortOrder, List<SkinTone> tones, Set<EmojiVendor> vendors) {

    public EmojiPicture {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(subcategory, "subcategory");
        shortNames = List.copyOf(shortNames);
        tones = List.copyOf(tones);
        vendors = Set.copyOf(vendors);
        if (tones.size() > 2) {
            throw new IllegalArgumentException(code + ": at most two skin tones, got " + tones);
        }
    }

    /** Whether this is a skin-tone variation. */
    public boolean hasTone() {
        return !tones.isEmpty();
    }

    /** Whether this is the one-tone variation of {@code tone}. */
    public boolean hasSingleTone(SkinTone tone) {
        return tones.size() == 1 && tones.get(0) == tone;
    }
}
