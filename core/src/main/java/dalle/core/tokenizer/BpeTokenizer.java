package dalle.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caption tokenizer: lower-casing, GPT-2 byte-level BPE, and {@code <pad>} as id 0.
 *
 * <p>It reads and writes a Hugging Face {@code tokenizer.json} (Lowercase normalizer, ByteLevel
 * pre-tokenizer and decoder, BPE model) and gives the same ids as Hugging Face's tokenizers on
 * every text: any Unicode caption encodes (there is no unknown token), and a literal
 * {@code <pad>} in a caption is the pad token, as Hugging Face's added-token matching makes it.
 *
 * <p>Ids: 0 is {@code <pad>}; a trained tokenizer then has the 256 byte symbols at 1 + byte value
 * and one id per merge in merge order. Instances are immutable and safe to share between threads
 * (the per-word cache is concurrent).
 */
public final class BpeTokenizer {

    /** The pad token's text; it is a special token, matched in raw (not lower-cased) captions. */
    public static final String PAD = "<pad>";

    private static final int PAD_ID = 0;
    private static final int CACHE_LIMIT = 100_000;

    private final String[] tokens;
    private final List<String[]> merges;
    private final int[] mergeResult;
    private final Map<Long, Integer> pairRank;
    private final int[] byteCharId;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab token strings by id: {@code <pad>} at 0, all others spelled in byte characters,
     *     including all 256 single bytes
     * @param merges merge rules in priority order as (left, right); both sides and their
     *     concatenation must be in {@code vocab}. A repeated pair keeps its last rank, as in
     *     Hugging Face.
     * @throws IllegalArgumentException naming the first rule the vocabulary breaks
     */
    BpeTokenizer(List<String> vocab, List<String[]> merges) {
        this.tokens = vocab.toArray(new String[0]);
        this.merges = List.copyOf(merges);
        if (tokens.length == 0 || !PAD.equals(tokens[PAD_ID])) {
            throw new IllegalArgumentException("id " + PAD_ID + " must be " + PAD);
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            String token = Objects.requireNonNull(tokens[id], "token " + id);
            if (id != PAD_ID && (token.isEmpty() || !ByteLevel.isByteChars(token))) {
                throw new IllegalArgumentException("token " + id + " '" + token + "' is not spelled in byte characters");
            }
            if (ids.put(token, id) != null) {
                throw new IllegalArgumentException("token '" + token + "' appears twice");
            }
        }
        byteCharId = new int[256 + 68];
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.byteChar(b);
            Integer id = ids.get(String.valueOf(c));
            if (id == null) {
                throw new IllegalArgumentException("byte " + b + " ('" + c + "') has no token");
            }
            byteCharId[c] = id;
        }
        mergeResult = new int[merges.size()];
        pairRank = new HashMap<>(2 * merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] merge = merges.get(rank);
            Integer left = ids.get(merge[0]);
            Integer right = ids.get(merge[1]);
            Integer result = ids.get(merge[0] + merge[1]);
            if (left == null || right == null || result == null || left == PAD_ID || right == PAD_ID || result == PAD_ID) {
                throw new IllegalArgumentException(
                        "merge " + rank + " '" + merge[0] + " " + merge[1] + "' uses or makes a token not in the vocabulary");
            }
            mergeResult[rank] = result;
            pairRank.put(pair(left, right), rank);
        }
    }

    /**
     * Trains a tokenizer on {@code captions} (deterministic: same captions in the same order give
     * the same tokenizer). See {@link BpeTrainer}.
     *
     * @param vocabSize total ids including {@code <pad>} and the 256 byte symbols (at least 257);
     *     the result is smaller when the corpus runs out of pairs to merge
     */
    public static BpeTokenizer train(Iterable<String> captions, int vocabSize) {
        return BpeTrainer.train(captions, vocabSize);
    }

    /**
     * Reads a Hugging Face {@code tokenizer.json} of the kind {@link #save} writes.
     *
     * @throws dalle.core.io.CheckpointException naming the file and the reason when it is missing,
     *     malformed, not a byte-level BPE with lower-casing, or has no {@code <pad>} at id 0
     */
    public static BpeTokenizer load(Path tokenizerJson) {
        return TokenizerJson.read(tokenizerJson);
    }

    /** Writes this tokenizer as a Hugging Face {@code tokenizer.json} (UTF-8, deterministic bytes). */
    public void save(Path tokenizerJson) throws IOException {
        TokenizerJson.write(tokenizerJson, this);
    }

    /** Token ids of {@code caption}: lower-cased, no special tokens added, any length. */
    public int[] encode(String caption) {
        return encode(caption, 0f, null);
    }

    /**
     * Token ids with BPE-dropout (Provilkov et al. 2020): each merge is skipped with probability
     * {@code dropout}, giving a finer but equally decodable segmentation. With dropout 0 this is
     * {@link #encode(String)} and {@code rng} is neither needed nor advanced.
     *
     * @param dropout probability in [0, 1] of skipping a merge (the DALL·E paper uses 0.1)
     * @param rng source of the skips; required when {@code dropout > 0}
     */
    public int[] encode(String caption, float dropout, SplittableRandom rng) {
        Objects.requireNonNull(caption, "caption");
        if (!(dropout >= 0f && dropout <= 1f)) {
            throw new IllegalArgumentException("dropout " + dropout + " is not in [0, 1]");
        }
        if (dropout > 0f) {
            Objects.requireNonNull(rng, "rng is required for dropout " + dropout);
        }
        List<String> words = new ArrayList<>();
        IntList out = new IntList(caption.length() + 4);
        int from = 0;
        while (true) {
            int at = caption.indexOf(PAD, from);
            int stop = at < 0 ? caption.length() : at;
            if (stop > from) {
                words.clear();
                ByteLevel.preTokenize(ByteLevel.lowercase(caption.substring(from, stop)), words);
                for (String word : words) {
                    out.addAll(dropout > 0f ? merge(word, dropout, rng) : cached(word));
                }
            }
            if (at < 0) {
                return out.toArray();
            }
            out.add(PAD_ID);
            from = at + PAD.length();
        }
    }

    /**
     * Exactly {@code length} ids: {@link #encode(String)} cut to {@code length}, then filled with
     * {@link #padId()}.
     */
    public int[] encodePadded(String caption, int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length " + length + " is negative");
        }
        int[] ids = encode(caption);
        int[] padded = Arrays.copyOf(ids, length);
        if (ids.length < length) {
            Arrays.fill(padded, ids.length, length, PAD_ID);
        }
        return padded;
    }

    /**
     * The text of {@code ids}, skipping {@code <pad>}; byte sequences that are not valid UTF-8
     * (possible when ids are cut mid-character) become U+FFFD.
     *
     * @throws IllegalArgumentException for an id outside [0, vocabSize)
     */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            if (id < 0 || id >= tokens.length) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + tokens.length + ")");
            }
            if (id != PAD_ID) {
                ByteLevel.appendBytes(tokens[id], bytes);
            }
        }
        return ByteLevel.utf8(bytes);
    }

    /** The id of {@code <pad>}: 0. */
    public int padId() {
        return PAD_ID;
    }

    /** Number of ids, {@code <pad>} and the 256 byte symbols included. */
    public int vocabSize() {
        return tokens.length;
    }

    /** Token string of {@code id} ({@code <pad>} or byte characters, e.g. {@code Ġred}). */
    public String token(int id) {
        return tokens[id];
    }

    /** Merge rules in priority order, as (left, right) token strings. */
    List<String[]> merges() {
        return merges;
    }

    private int[] cached(String word) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word, 0f, null);
            if (cache.size() < CACHE_LIMIT) {
                cache.put(word, ids);
            }
        }
        return ids;
    }

    /**
     * Hugging Face's BPE on one word: repeatedly apply the lowest-ranked merge among adjacent
     * symbols, leftmost first. With dropout, a popped merge is skipped with probability
     * {@code dropout} and offered again after the next merge that is applied.
     */
    private int[] merge(String word, float dropout, SplittableRandom rng) {
        int n = word.length();
        int[] symbol = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            symbol[i] = byteCharId[word.charAt(i)];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        boolean[] removed = new boolean[n];
        // Entries are rank << 32 | position: the smallest is the best merge, leftmost on ties.
        PriorityQueue<Long> queue = new PriorityQueue<>(Math.max(1, n));
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, symbol[i], symbol[i + 1], i);
        }
        List<Long> skipped = new ArrayList<>();
        int left = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            if (dropout > 0f && rng.nextDouble() < dropout) {
                skipped.add(top);
                continue;
            }
            queue.addAll(skipped);
            skipped.clear();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (removed[pos] || right < 0) {
                continue;
            }
            int current = rankOf(symbol[pos], symbol[right]);
            if (current < 0 || mergeResult[current] != mergeResult[rank]) {
                continue; // a stale entry: this pair has changed since it was queued
            }
            symbol[pos] = mergeResult[rank];
            removed[right] = true;
            left--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
                offer(queue, symbol[pos], symbol[next[pos]], pos);
            }
            if (prev[pos] >= 0) {
                offer(queue, symbol[prev[pos]], symbol[pos], prev[pos]);
            }
        }
        int[] ids = new int[left];
        for (int i = 0, k = 0; i < n; i++) {
            if (!removed[i]) {
                ids[k++] = symbol[i];
            }
        }
        return ids;
    }

    private void offer(PriorityQueue<Long> queue, int left, int right, int pos) {
        int rank = rankOf(left, right);
        if (rank >= 0) {
            queue.add((long) rank << 32 | pos);
        }
    }

    private int rankOf(int left, int right) {
        Integer rank = pairRank.get(pair(left, right));
        return rank == null ? -1 : rank;
    }

    static long pair(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }
}
