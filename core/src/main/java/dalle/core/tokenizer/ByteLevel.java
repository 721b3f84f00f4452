package dalle.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text side of a GPT-2 style byte-level BPE, written to match Hugging Face tokenizers 0.2x
 * exactly: the {@code Lowercase} normalizer, the {@code ByteLevel} pre-tokenizer
 * ({@code add_prefix_space=false, use_regex=true}) and the {@code ByteLevel} decoder.
 *
 * <p>Every UTF-8 byte is one of 256 printable "byte characters" (GPT-2's {@code bytes_to_unicode}:
 * printable Latin-1 bytes stand for themselves, the other 68 bytes map to U+0100..U+0143, so a
 * space becomes {@code Ġ}). A word is a string of byte characters, so no text is ever unknown.
 */
final class ByteLevel {

    /**
     * GPT-2's split, as Hugging Face's ByteLevel pre-tokenizer writes it. With
     * {@code UNICODE_CHARACTER_CLASS}, {@code \s} is Unicode White_Space as in Oniguruma.
     */
    static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + extra++);
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {}

    /** The byte character standing for byte {@code b} (0..255). */
    static char byteChar(int b) {
        return BYTE_TO_CHAR[b];
    }

    /**
     * Lower-cases like Hugging Face's {@code Lowercase} normalizer: each code point on its own with
     * the full Unicode mapping (Rust's {@code char::to_lowercase}), so {@code İ} becomes two code
     * points and {@code Σ} is always {@code σ} (no final-sigma rule).
     */
    static String lowercase(String text) {
        int ascii = 0;
        while (ascii < text.length() && text.charAt(ascii) < 0x80) {
            ascii++;
        }
        if (ascii == text.length()) {
            return text.toLowerCase(Locale.ROOT);
        }
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); ) {
            int len = Character.charCount(text.codePointAt(i));
            out.append(text.substring(i, i + len).toLowerCase(Locale.ROOT));
            i += len;
        }
        return out.toString();
    }

    /**
     * Splits already-normalized text into words with GPT-2's regex (keeping everything: the
     * pattern covers every character) and spells each word in byte characters.
     */
    static void preTokenize(String normalized, List<String> wordsOut) {
        Matcher m = SPLIT.matcher(normalized);
        int end = 0;
        while (m.find()) {
            if (m.start() > end) {
                wordsOut.add(toByteChars(normalized.substring(end, m.start())));
            }
            wordsOut.add(toByteChars(normalized.substring(m.start(), m.end())));
            end = m.end();
        }
        if (end < normalized.length()) {
            wordsOut.add(toByteChars(normalized.substring(end)));
        }
    }

    /** The UTF-8 bytes of {@code text} as byte characters. */
    static String toByteChars(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(chars);
    }

    /** Whether every char of {@code token} is a byte character. */
    static boolean isByteChars(String token) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || BYTE_TO_CHAR[CHAR_TO_BYTE[c]] != c) {
                return false;
            }
        }
        return true;
    }

    /** Appends the bytes spelled by byte-character {@code token} to {@code out}. */
    static void appendBytes(String token, ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            out.write(CHAR_TO_BYTE[token.charAt(i)]);
        }
    }

    /** Decodes collected bytes as UTF-8, replacing malformed sequences with U+FFFD. */
    static String utf8(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
