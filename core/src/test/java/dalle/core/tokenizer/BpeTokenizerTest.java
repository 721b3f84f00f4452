package dalle.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.io.CheckpointException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTokenizerTest {

    static BpeTokenizer tokenizer;
    static List<String> heldOut;

    @BeforeAll
    static void train() {
        tokenizer = BpeTokenizer.train(CaptionCorpus.captions(1, 3000), 1024);
        heldOut = CaptionCorpus.captions(2, 300);
    }

    @Test
    void trainerMergesMostFrequentPairFirstAndBreaksTiesBySmallerIds() {
        // Counts: u g 3; h u, p u, u n 2; b u 1. Byte ids are 1 + byte, so h (105) < u (118).
        BpeTokenizer t = BpeTokenizer.train(List.of("hug", "hug", "pug", "pun", "bun"), 257 + 6);

        List<String> merged = IntStream.range(257, t.vocabSize()).mapToObj(t::token).collect(Collectors.toList());

        assertEquals(List.of("ug", "hug", "un", "bun", "pug", "pun"), merged);
        assertArrayEquals(new int[] {258}, t.encode("HUG"));
        assertArrayEquals(new int[] {1 + 'm', 257}, t.encode("mug"));
    }

    @Test
    void vocabularyStopsAtRequestedSizeOrWhenPairsRunOut() {
        assertEquals(1024, tokenizer.vocabSize());
        assertEquals(300, BpeTokenizer.train(CaptionCorpus.captions(1, 3000), 300).vocabSize());
        assertEquals(257 + 2, BpeTokenizer.train(List.of("abc"), 5000).vocabSize());
        assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.train(List.of("abc"), 256));
    }

    @Test
    void trainsTwentyThousandCaptionsToFullVocabulary() {
        List<String> corpus = CaptionCorpus.captions(3, 20_000);

        BpeTokenizer big = BpeTokenizer.train(corpus, 2048);

        assertEquals(2048, big.vocabSize());
        assertTrue(big.encode(corpus.get(0)).length < corpus.get(0).getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void trainingIsDeterministic(@TempDir Path dir) throws Exception {
        List<String> corpus = CaptionCorpus.captions(4, 2000);

        BpeTokenizer.train(corpus, 700).save(dir.resolve("a.json"));
        BpeTokenizer.train(corpus, 700).save(dir.resolve("b.json"));

        assertArrayEquals(Files.readAllBytes(dir.resolve("a.json")), Files.readAllBytes(dir.resolve("b.json")));
    }

    @Test
    void saveThenLoadGivesIdenticalIdsAndBytes(@TempDir Path dir) throws Exception {
        Path first = dir.resolve("sub/tokenizer.json");
        tokenizer.save(first);

        BpeTokenizer loaded = BpeTokenizer.load(first);
        loaded.save(dir.resolve("again.json"));

        assertEquals(tokenizer.vocabSize(), loaded.vocabSize());
        for (String caption : heldOut) {
            assertArrayEquals(tokenizer.encode(caption), loaded.encode(caption), caption);
        }
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(dir.resolve("again.json")));
    }

    @Test
    void decodeOfEncodeIsTheLowerCasedAsciiCaption() {
        List<String> ascii = new ArrayList<>(List.of("A Red CIRCLE, next to 2 squares!", "it's  42\tTIMES...", " x "));
        heldOut.stream().filter(c -> c.chars().allMatch(ch -> ch < 0x80) && !c.contains(BpeTokenizer.PAD))
                .forEach(ascii::add);
        assertTrue(ascii.size() > 20, "too few ASCII captions: " + ascii.size());

        for (String caption : ascii) {
            assertEquals(caption.toLowerCase(Locale.ROOT), tokenizer.decode(tokenizer.encode(caption)));
        }
    }

    @Test
    void decodeOfEncodeKeepsEveryUnicodeCharacter() {
        for (String caption : heldOut) {
            String withoutPad = caption.replace(BpeTokenizer.PAD, "");
            assertEquals(ByteLevel.lowercase(withoutPad), tokenizer.decode(tokenizer.encode(caption)), caption);
        }
        assertEquals("café ☕ σοφια", tokenizer.decode(tokenizer.encode("CAFÉ ☕ ΣΟΦΙΑ")));
    }

    @Test
    void literalPadTextIsThePadToken() {
        int[] ids = tokenizer.encode("red<pad>circle");

        assertEquals(1, Arrays.stream(ids).filter(id -> id == tokenizer.padId()).count());
        assertEquals("redcircle", tokenizer.decode(ids));
        assertTrue(Arrays.stream(tokenizer.encode("<PAD>")).noneMatch(id -> id == tokenizer.padId()));
    }

    @Test
    void dropoutZeroEqualsPlainEncodeAndLeavesRngUntouched() {
        SplittableRandom rng = new SplittableRandom(7);
        for (String caption : heldOut) {
            assertArrayEquals(tokenizer.encode(caption), tokenizer.encode(caption, 0f, rng));
        }
        assertEquals(new SplittableRandom(7).nextLong(), rng.nextLong());
    }

    @Test
    void dropoutGivesOtherSegmentationsThatDecodeToTheSameText() {
        SplittableRandom rng = new SplittableRandom(11);
        int changed = 0;
        long plainTokens = 0;
        long droppedTokens = 0;
        for (String caption : heldOut) {
            int[] plain = tokenizer.encode(caption);
            int[] dropped = tokenizer.encode(caption, 0.1f, rng);
            assertEquals(tokenizer.decode(plain), tokenizer.decode(dropped), caption);
            changed += Arrays.equals(plain, dropped) ? 0 : 1;
            plainTokens += plain.length;
            droppedTokens += dropped.length;
        }
        assertTrue(changed > heldOut.size() / 4, "only " + changed + " of " + heldOut.size() + " captions changed");
        assertTrue(droppedTokens > plainTokens, droppedTokens + " tokens with dropout vs " + plainTokens);
    }

    @Test
    void dropoutOneLeavesSingleBytes() {
        String caption = "A crimson café, 3 hexagons 🍎";

        int[] ids = tokenizer.encode(caption, 1f, new SplittableRandom(1));

        assertEquals(caption.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8).length, ids.length);
        assertTrue(Arrays.stream(ids).allMatch(id -> id >= 1 && id <= 256));
        assertEquals(caption.toLowerCase(Locale.ROOT), tokenizer.decode(ids));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encode(caption, 1.5f, new SplittableRandom(1)));
    }

    @Test
    void encodePaddedCutsOrFillsWithPadId() {
        int[] ids = tokenizer.encode("a red circle above a blue square");
        assertEquals(0, tokenizer.padId());

        int[] longer = tokenizer.encodePadded("a red circle above a blue square", ids.length + 5);
        int[] shorter = tokenizer.encodePadded("a red circle above a blue square", 3);

        assertArrayEquals(ids, Arrays.copyOf(longer, ids.length));
        assertTrue(Arrays.stream(longer, ids.length, longer.length).allMatch(id -> id == tokenizer.padId()));
        assertArrayEquals(Arrays.copyOf(ids, 3), shorter);
        assertArrayEquals(new int[4], tokenizer.encodePadded("", 4));
        assertEquals(0, tokenizer.encodePadded("red", 0).length);
        assertEquals("a red circle above a blue square", tokenizer.decode(longer));
    }

    @Test
    void decodeRefusesIdsOutsideTheVocabulary() {
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {tokenizer.vocabSize()}));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {-1}));
    }

    @Test
    void malformedOrForeignFilesAreRefusedNamingThePath(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.json");
        tokenizer.save(good);
        String json = Files.readString(good);

        assertRefused(dir.resolve("missing.json"), null, "no such file");
        assertRefused(dir.resolve("garbage.json"), "{\"model\": [1, 2", "not a JSON object");
        assertRefused(dir.resolve("wordpiece.json"), json.replace("\"type\": \"BPE\"", "\"type\": \"WordPiece\""),
                "model type WordPiece is not BPE");
        assertRefused(dir.resolve("no-lower.json"), json.replace("\"type\": \"Lowercase\"", "\"type\": \"NFC\""),
                "normalizer must be Lowercase");
        assertRefused(dir.resolve("no-pad.json"), json.replace("\"content\": \"<pad>\"", "\"content\": \"<s>\""),
                "added token must be <pad>");
        assertRefused(dir.resolve("bad-merge.json"), json.replace("\"merges\": [", "\"merges\": [\n      \"zz qq\","),
                "not in the vocabulary");
    }

    private static void assertRefused(Path file, String content, String reason) throws Exception {
        if (content != null) {
            Files.writeString(file, content);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> BpeTokenizer.load(file));
        assertEquals(file, e.path());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
