package dalle.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic captions for tokenizer tests: colour and shape words, numbers,
 * punctuation, capitals, contractions, accented and non-Latin letters, emoji, combining marks,
 * odd whitespace and the literal pad text.
 */
final class CaptionCorpus {

    private static final String[] COLOURS = {"red", "Green", "BLUE", "yellow", "purple", "crimson", "Turquoise",
        "dark-grey", "off white", "Café-au-lait", "bleu pâle", "ROSÉ"};
    private static final String[] SHAPES = {"circle", "square", "triangle", "hexagon", "star", "Heart", "Straße",
        "pentagon", "ellipse", "cube", "ΣΦΑΙΡΑ", "κύκλος", "круг", "東京", "İstanbul", "naïve"};
    private static final String[] GLUE = {"a", "an", "the", "of", "on", "with", "and", "next to", "above",
        "it's", "DON'T", "they'll", "we're", "I'd", "she's", "you've", "I'm", "it’s"};
    private static final String[] PUNCTUATION = {",", ".", "!", "?", ";", ":", "-", "--", "...", "(", ")",
        "\"", "'", "—", "/", "#", "@", "&", "%", "*", "«", "»", "¿", "+="};
    private static final String[] UNICODE = {"café", "naïve", "e\u0301", "🍎", "👩‍👩‍👧", "🟥", "★", "½", "²",
        "٣", "ⅷ", "日本語", "한국어", "Ǆ", "ﬁ", "Ⅻ", "x\u0000y", "\uFEFF", "𝔘𝔫𝔦"};
    private static final String[] SPACES = {" ", " ", " ", " ", " ", "  ", "   ", "\t", "\n", " \n ", "\u00A0",
        "\u3000", "\u2009", "\u200B", "\r\n"};

    private CaptionCorpus() {}

    /** {@code count} captions drawn with {@code seed}. */
    static List<String> captions(long seed, int count) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(caption(rng));
        }
        return out;
    }

    private static String caption(SplittableRandom rng) {
        StringBuilder sb = new StringBuilder();
        if (rng.nextInt(10) == 0) {
            sb.append(pick(rng, SPACES));
        }
        int parts = 2 + rng.nextInt(10);
        for (int p = 0; p < parts; p++) {
            if (p > 0) {
                sb.append(pick(rng, SPACES));
            }
            int kind = rng.nextInt(20);
            String word;
            if (kind < 5) {
                word = pick(rng, COLOURS);
            } else if (kind < 10) {
                word = pick(rng, SHAPES) + (rng.nextInt(3) == 0 ? "s" : "");
            } else if (kind < 13) {
                word = pick(rng, GLUE);
            } else if (kind < 15) {
                word = number(rng);
            } else if (kind < 17) {
                word = pick(rng, UNICODE);
            } else if (kind < 19) {
                word = pick(rng, PUNCTUATION);
            } else {
                word = rng.nextInt(4) == 0 ? "<pad>" : rng.nextBoolean() ? "<PAD>" : "x<pad>y";
            }
            if (rng.nextInt(8) == 0) {
                word = word.toUpperCase(java.util.Locale.ROOT);
            }
            sb.append(word);
            if (rng.nextInt(5) == 0) {
                sb.append(pick(rng, PUNCTUATION));
            }
        }
        if (rng.nextInt(10) == 0) {
            sb.append(pick(rng, SPACES));
        }
        return sb.toString();
    }

    private static String number(SplittableRandom rng) {
        switch (rng.nextInt(5)) {
            case 0:
                return Integer.toString(rng.nextInt(10));
            case 1:
                return Integer.toString(rng.nextInt(100000));
            case 2:
                return rng.nextInt(100) + "." + rng.nextInt(100);
            case 3:
                return rng.nextInt(10) + "x" + rng.nextInt(10);
            default:
                return (1 + rng.nextInt(31)) + "th";
        }
    }

    private static String pick(SplittableRandom rng, String[] options) {
        return options[rng.nextInt(options.length)];
    }
}
