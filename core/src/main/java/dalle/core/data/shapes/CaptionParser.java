package dalle.core.data.shapes;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads a shapes caption back into a {@link CaptionQuery}. Accepts every {@link Phrasing} and the
 * grammar they share, case-insensitively, with an optional final full stop:
 *
 * <pre>
 * caption  := [prefix] object [("and" | relation) object] [suffix]
 * prefix   := "there is" | "a picture of" | "an image of"
 * suffix   := "on a black background"
 * object   := ("a" | "an" | "one") [size] colour shape
 * relation := "to the left of" | "to the right of" | "left of" | "right of" | "above" | "below"
 * </pre>
 *
 * Anything else is an {@link UnknownCaptionException} naming the caption and the failing word.
 */
public final class CaptionParser {

    private static final List<List<String>> PREFIXES =
            Stream.of("there is", "a picture of", "an image of").map(CaptionParser::words).toList();
    private static final List<String> SUFFIX = words("on a black background");
    private static final List<String> ARTICLES = List.of("a", "an", "one");

    private CaptionParser() {}

    /** The query {@code caption} states; throws {@link UnknownCaptionException} if it is not a shapes caption. */
    public static CaptionQuery parse(String caption) {
        return new Cursor(caption).caption();
    }

    /** The query {@code caption} states, or empty if it is not a shapes caption. */
    public static Optional<CaptionQuery> tryParse(String caption) {
        try {
            return Optional.of(parse(caption));
        } catch (UnknownCaptionException e) {
            return Optional.empty();
        }
    }

    private static List<String> words(String text) {
        return Arrays.asList(text.trim().split("\\s+"));
    }

    /** Recursive descent over the caption's words. */
    private static final class Cursor {
        private final String caption;
        private final List<String> words;
        private int pos;
        private int end;

        Cursor(String caption) {
            this.caption = caption;
            String text = caption.trim().toLowerCase(Locale.ROOT);
            if (text.endsWith(".")) {
                text = text.substring(0, text.length() - 1);
            }
            this.words = text.isBlank() ? List.of() : words(text);
            this.end = words.size();
        }

        CaptionQuery caption() {
            for (List<String> prefix : PREFIXES) {
                if (at(pos, prefix)) {
                    pos += prefix.size();
                    break;
                }
            }
            if (end - SUFFIX.size() > pos && at(end - SUFFIX.size(), SUFFIX)) {
                end -= SUFFIX.size();
            }
            ObjectQuery first = object();
            if (pos == end) {
                return CaptionQuery.one(first);
            }
            if (words.get(pos).equals("and")) {
                pos++;
                return finish(CaptionQuery.and(first, object()));
            }
            Relation relation = relation();
            return finish(CaptionQuery.related(first, relation, object()));
        }

        private CaptionQuery finish(CaptionQuery query) {
            if (pos != end) {
                throw fail("unexpected words after the second object");
            }
            return query;
        }

        private ObjectQuery object() {
            expect("an article (a, an, one)", ARTICLES.contains(word()));
            pos++;
            Optional<Size> size = Optional.empty();
            if (vocabulary(Size.values()).contains(word())) {
                size = Optional.of(Size.fromWord(words.get(pos++)));
            }
            expect("a colour (" + String.join(", ", vocabulary(Colour.values())) + ")",
                    vocabulary(Colour.values()).contains(word()));
            Colour colour = Colour.fromWord(words.get(pos++));
            expect("a shape (" + String.join(", ", vocabulary(ShapeKind.values())) + ")",
                    vocabulary(ShapeKind.values()).contains(word()));
            ShapeKind shape = ShapeKind.fromWord(words.get(pos++));
            return new ObjectQuery(colour, shape, size);
        }

        private Relation relation() {
            for (Relation r : Relation.values()) {
                List<String> full = words(r.phrase());
                if (at(pos, full)) {
                    pos += full.size();
                    return r;
                }
                if (full.get(0).equals("to") && at(pos, full.subList(2, full.size()))) {
                    pos += full.size() - 2; // "left of" without "to the"
                    return r;
                }
            }
            throw fail("expected \"and\" or a relation (to the left of, to the right of, above, below)");
        }

        private String word() {
            return pos < end ? words.get(pos) : "";
        }

        private boolean at(int from, List<String> phrase) {
            return from + phrase.size() <= end && words.subList(from, from + phrase.size()).equals(phrase);
        }

        private void expect(String what, boolean ok) {
            if (!ok) {
                throw fail("expected " + what);
            }
        }

        private UnknownCaptionException fail(String problem) {
            String where = pos < end ? "at word " + (pos + 1) + " (\"" + words.get(pos) + "\")" : "at the end";
            return new UnknownCaptionException(caption, problem + " " + where);
        }

        private static List<String> vocabulary(Enum<?>[] values) {
            return Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).collect(Collectors.toList());
        }
    }
}
