package dalle.core.train;

import dalle.core.io.DurableFiles;
import dalle.core.tokenizer.BpeTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The tokenizer of a prior or reranker run, kept as {@code out/tokenizer.json} so that the run
 * directory is self-contained and a resumed run reads captions exactly as before.
 */
public final class TokenizerFiles {

    /** The file name in a run directory. */
    public static final String FILE = "tokenizer.json";
    /** Vocabulary of a tokenizer trained for a run (the corpus may run out of merges sooner). */
    public static final int DEFAULT_VOCAB = 1024;
    /** A trained tokenizer learns from the first this-many captions of the training data. */
    public static final int CORPUS_CAPTIONS = 20_000;

    private TokenizerFiles() {}

    /**
     * The run's tokenizer, in this order: {@code given} (copied to {@code out/tokenizer.json}); the
     * run's own {@code out/tokenizer.json}; a new one trained on {@code captions} with {@code vocab} ids
     * and saved there. Two runs on the same data and seed therefore train the same tokenizer.
     *
     * @param given a {@code tokenizer.json} to use, or null
     * @throws IllegalArgumentException when {@code given} differs from a tokenizer the run already has
     */
    public static BpeTokenizer resolve(Path given, Path out, Supplier<List<String>> captions, int vocab,
                                       Consumer<String> note) throws IOException {
        Path own = out.resolve(FILE);
        Files.createDirectories(out);
        if (given != null) {
            BpeTokenizer tokenizer = BpeTokenizer.load(given);
            if (Files.isRegularFile(own)) {
                if (!fingerprint(BpeTokenizer.load(own)).equals(fingerprint(tokenizer))) {
                    throw new IllegalArgumentException(given + " differs from the tokenizer this run already uses, "
                            + own + "; drop the tokenizer option or train into another directory");
                }
                return tokenizer;
            }
            tokenizer.save(own);
            return tokenizer;
        }
        if (Files.isRegularFile(own)) {
            return BpeTokenizer.load(own);
        }
        List<String> corpus = captions.get();
        BpeTokenizer tokenizer = BpeTokenizer.train(corpus, vocab);
        tokenizer.save(own);
        note.accept("trained a tokenizer on " + corpus.size() + " captions (" + tokenizer.vocabSize() + " ids) -> "
                + own);
        return tokenizer;
    }

    /** The first 16 hex digits of the SHA-256 of the tokenizer's {@code tokenizer.json} bytes (written deterministically). */
    public static String fingerprint(BpeTokenizer tokenizer) {
        try {
            Path tmp = Files.createTempFile("tokenizer", ".json");
            try {
                tokenizer.save(tmp);
                return DurableFiles.sha256(tmp).substring(0, 16);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
