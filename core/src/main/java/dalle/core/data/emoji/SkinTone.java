package dalle.core.data.emoji;

import java.util.Locale;

/**
 * The five Fitzpatrick skin-tone modifiers of Unicode (U+1F3FB..U+1F3FF), as {@code emoji.json} keys its
 * {@code skin_variations} and as captions spell them.
 */
public enum SkinTone {
    LIGHT("1F3FB", "light"),
    MEDIUM_LIGHT("1F3FC", "medium-light"),
    MEDIUM("1F3FD", "medium"),
    MEDIUM_DARK("1F3FE", "medium-dark"),
    DARK("1F3FF", "dark");

    private final String code;
    private final String word;

    SkinTone(String code, String word) {
        this.code = code;
        this.word = word;
    }

    /** The modifier's code point in upper-case hex, as {@code emoji.json} writes it: {@code 1F3FB}. */
    public String code() {
        return code;
    }

    /** The caption's words: {@code medium-dark skin tone}. */
    public String caption() {
        return word + " skin tone";
    }

    /**
     * @throws IllegalArgumentException naming the code when it is not one of the five modifiers
     */
    public static SkinTone ofCode(String code) {
        String upper = code.toUpperCase(Locale.ROOT);
        for (SkinTone t : values()) {
            if (t.code.equals(upper)) {
                return t;
            }
        }
        throw new IllegalArgumentException("not a skin-tone modifier: " + code + " (expected 1F3FB..1F3FF)");
    }
}
