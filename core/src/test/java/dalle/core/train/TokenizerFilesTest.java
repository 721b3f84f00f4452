package dalle.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.tokenizer.BpeTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerFilesTest {

    @TempDir Path dir;

    private static List<String> captions(long seed) {
        List<String> out = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            out.add(TinyRuns.shapes(seed).caption(i).text());
        }
        return out;
    }

    @Test
    void trainsOnceThenReusesTheRunsOwnTokenizer() throws Exception {
        Path out = dir.resolve("run");
        List<String> notes = new ArrayList<>();
        BpeTokenizer trained = TokenizerFiles.resolve(null, out, () -> captions(1), 300, notes::add);
        assertTrue(Files.isRegularFile(out.resolve(TokenizerFiles.FILE)));
        assertEquals(1, notes.size());
        BpeTokenizer again = TokenizerFiles.resolve(null, out, () -> {
            throw new AssertionError("must not train again");
        }, 300, notes::add);
        assertEquals(TokenizerFiles.fingerprint(trained), TokenizerFiles.fingerprint(again));
    }

    @Test
    void aGivenTokenizerIsCopiedInAndAConflictingOneRefused() throws Exception {
        Path given = dir.resolve("given.json");
        BpeTokenizer.train(captions(1), 300).save(given);
        Path out = dir.resolve("run");
        BpeTokenizer used = TokenizerFiles.resolve(given, out, List::of, 300, s -> { });
        assertEquals(TokenizerFiles.fingerprint(used),
                TokenizerFiles.fingerprint(BpeTokenizer.load(out.resolve(TokenizerFiles.FILE))));

        Path other = dir.resolve("other.json");
        BpeTokenizer.train(captions(2).subList(0, 40), 280).save(other);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerFiles.resolve(other, out, List::of, 300, s -> { }));
        assertTrue(e.getMessage().contains(other.toString()), e.getMessage());
    }
}
