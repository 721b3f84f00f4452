package dalle.core.data.readers;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Shard lists written the WebDataset way, as one brace pattern: {@code /data/laion-{000000..000099}.tar}. */
public final class ShardPatterns {

    /** Most values one brace range may expand to. */
    static final long MAX_EXPANSION = 1_000_000;

    private ShardPatterns() {}

    /**
     * Expands the shard-list brace notation of WebDataset and {@code curl}: numeric ranges keep their zero padding
     * ({@code "data-{000..002}.tar"} gives {@code data-000.tar, data-001.tar, data-002.tar}) and comma lists are
     * alternatives ({@code "{train,extra}-0.tar"}); several groups multiply out, in order. Text without braces is
     * returned as is.
     *
     * @throws IllegalArgumentException naming the pattern if a brace is unbalanced or a range is not numeric
     */
    public static List<String> expand(String pattern) {
        int open = pattern.indexOf('{');
        if (open < 0) {
            if (pattern.indexOf('}') >= 0) {
                throw new IllegalArgumentException("unbalanced '}' in shard pattern " + pattern);
            }
            return List.of(pattern);
        }
        int close = pattern.indexOf('}', open);
        if (close < 0) {
            throw new IllegalArgumentException("unbalanced '{' in shard pattern " + pattern);
        }
        String body = pattern.substring(open + 1, close);
        List<String> choices = new ArrayList<>();
        int dots = body.indexOf("..");
        if (dots >= 0) {
            String lo = body.substring(0, dots);
            String hi = body.substring(dots + 2);
            if (!lo.matches("\\d{1,18}") || !hi.matches("\\d{1,18}") || Long.parseLong(lo) > Long.parseLong(hi)) {
                throw new IllegalArgumentException("range {" + body + "} in shard pattern " + pattern
                        + " is not of the form {first..last} with first <= last");
            }
            if (Long.parseLong(hi) - Long.parseLong(lo) >= MAX_EXPANSION) {
                throw new IllegalArgumentException("range {" + body + "} in shard pattern " + pattern
                        + " has more than " + MAX_EXPANSION + " values");
            }
            int width = lo.length();
            for (long i = Long.parseLong(lo); i <= Long.parseLong(hi); i++) {
                choices.add(String.format(Locale.ROOT, "%0" + width + "d", i));
            }
        } else {
            choices.addAll(List.of(body.split(",", -1)));
        }
        List<String> out = new ArrayList<>();
        String head = pattern.substring(0, open);
        for (String choice : choices) {
            for (String tail : expand(pattern.substring(close + 1))) {
                out.add(head + choice + tail);
            }
        }
        return out;
    }
}
