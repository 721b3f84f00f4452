package dalle.core.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Byte-level BPE training (Sennrich et al. 2016, GPT-2's byte alphabet).
 *
 * <p>Captions are lower-cased and split into words exactly as {@link BpeTokenizer#encode} does;
 * each distinct word is kept once with its count. Starting from the 256 byte symbols, the trainer
 * repeatedly merges the most frequent adjacent pair, ties broken by the smaller (left id, right
 * id), until the vocabulary is full or no pair is left. Pair counts are updated incrementally:
 * a merge re-counts only the words that contain its pair (found through a per-pair word index),
 * and a max-heap with lazily refreshed counts picks the next pair.
 */
final class BpeTrainer {

    /** Pad plus 256 byte symbols. */
    static final int BASE_VOCAB = 257;

    private static final Pattern PAD_SPLIT = Pattern.compile(Pattern.quote(BpeTokenizer.PAD));

    /** A queued pair with the count it had when queued (possibly stale). */
    private record Candidate(long count, int left, int right) {}

    private static final Comparator<Candidate> BEST_FIRST = Comparator.comparingLong(Candidate::count)
            .reversed()
            .thenComparingInt(Candidate::left)
            .thenComparingInt(Candidate::right);

    /** Current count of one pair and the words that may contain it (a superset; checked on use). */
    private static final class PairStat {
        long count;
        final IntList words = new IntList(4);
    }

    private BpeTrainer() {}

    static BpeTokenizer train(Iterable<String> captions, int vocabSize) {
        if (vocabSize < BASE_VOCAB) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " is below the " + BASE_VOCAB
                    + " base ids (" + BpeTokenizer.PAD + " and 256 bytes)");
        }
        List<String> vocab = new ArrayList<>(vocabSize);
        Map<String, Integer> ids = new HashMap<>(2 * vocabSize);
        vocab.add(BpeTokenizer.PAD);
        ids.put(BpeTokenizer.PAD, 0);
        for (int b = 0; b < 256; b++) {
            String symbol = String.valueOf(ByteLevel.byteChar(b));
            ids.put(symbol, vocab.size());
            vocab.add(symbol);
        }

        // Distinct words (as byte-symbol ids) with their counts, in order of first appearance.
        Map<String, long[]> wordCounts = new LinkedHashMap<>();
        List<String> pieces = new ArrayList<>();
        for (String caption : captions) {
            for (String segment : PAD_SPLIT.split(caption, -1)) {
                pieces.clear();
                ByteLevel.preTokenize(ByteLevel.lowercase(segment), pieces);
                for (String word : pieces) {
                    wordCounts.computeIfAbsent(word, w -> new long[1])[0]++;
                }
            }
        }
        int[][] words = new int[wordCounts.size()][];
        long[] counts = new long[words.length];
        int w = 0;
        for (Map.Entry<String, long[]> entry : wordCounts.entrySet()) {
            String word = entry.getKey();
            words[w] = new int[word.length()];
            for (int i = 0; i < word.length(); i++) {
                words[w][i] = ids.get(String.valueOf(word.charAt(i)));
            }
            counts[w++] = entry.getValue()[0];
        }

        Map<Long, PairStat> stats = new HashMap<>();
        for (w = 0; w < words.length; w++) {
            for (int i = 0; i + 1 < words[w].length; i++) {
                PairStat stat = stats.computeIfAbsent(BpeTokenizer.pair(words[w][i], words[w][i + 1]), k -> new PairStat());
                stat.count += counts[w];
                if (stat.words.size() == 0 || stat.words.get(stat.words.size() - 1) != w) {
                    stat.words.add(w);
                }
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(1, stats.size()), BEST_FIRST);
        stats.forEach((key, stat) -> queue.add(new Candidate(stat.count, left(key), right(key))));

        List<String[]> merges = new ArrayList<>();
        Set<Long> merged = new HashSet<>();
        int[] visited = new int[words.length];
        int step = 0;
        while (vocab.size() < vocabSize && !queue.isEmpty()) {
            Candidate top = queue.poll();
            long key = BpeTokenizer.pair(top.left(), top.right());
            PairStat stat = stats.get(key);
            long current = stat == null ? 0 : stat.count;
            if (current != top.count()) {
                if (current > 0) {
                    queue.add(new Candidate(current, top.left(), top.right()));
                }
                continue;
            }
            String leftToken = vocab.get(top.left());
            String rightToken = vocab.get(top.right());
            String token = leftToken + rightToken;
            Integer id = ids.get(token);
            if (id == null) {
                id = vocab.size();
                vocab.add(token);
                ids.put(token, id);
            }
            if (merged.add(key)) {
                merges.add(new String[] {leftToken, rightToken});
            }

            step++;
            Set<Long> grown = new HashSet<>();
            IntList candidates = stat.words;
            for (int k = 0; k < candidates.size(); k++) {
                w = candidates.get(k);
                if (visited[w] == step) {
                    continue;
                }
                visited[w] = step;
                int[] before = words[w];
                int[] after = apply(before, top.left(), top.right(), id);
                if (after.length == before.length) {
                    continue; // the word no longer holds this pair
                }
                words[w] = after;
                for (int i = 0; i + 1 < before.length; i++) {
                    stats.get(BpeTokenizer.pair(before[i], before[i + 1])).count -= counts[w];
                }
                for (int i = 0; i + 1 < after.length; i++) {
                    long p = BpeTokenizer.pair(after[i], after[i + 1]);
                    PairStat s = stats.computeIfAbsent(p, x -> new PairStat());
                    s.count += counts[w];
                    if (after[i] == id || after[i + 1] == id) { // only pairs with the new symbol can grow
                        grown.add(p);
                        boolean listed = holds(before, after[i], after[i + 1])
                                || (s.words.size() > 0 && s.words.get(s.words.size() - 1) == w);
                        if (!listed) {
                            s.words.add(w);
                        }
                    }
                }
            }
            stats.remove(key);
            for (long p : grown) {
                PairStat s = stats.get(p);
                if (s.count > 0) {
                    queue.add(new Candidate(s.count, left(p), right(p)));
                }
            }
        }
        return new BpeTokenizer(vocab, merges);
    }

    /** {@code word} with every non-overlapping (left, right), scanned left to right, made {@code id}. */
    private static int[] apply(int[] word, int left, int right, int id) {
        IntList out = new IntList(word.length);
        for (int i = 0; i < word.length; i++) {
            if (i + 1 < word.length && word[i] == left && word[i + 1] == right) {
                out.add(id);
                i++;
            } else {
                out.add(word[i]);
            }
        }
        return out.toArray();
    }

    private static boolean holds(int[] word, int left, int right) {
        for (int i = 0; i + 1 < word.length; i++) {
            if (word[i] == left && word[i + 1] == right) {
                return true;
            }
        }
        return false;
    }

    private static int left(long pair) {
        return (int) (pair >>> 32);
    }

    private static int right(long pair) {
        return (int) pair;
    }
}
