package dalle.core.data.emoji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** emoji.json to pictures, captions from the metadata, and the deterministic zero-shot split. */
class EmojiCatalogTest {

    private final EmojiCatalog catalog = EmojiCatalog.parse(SyntheticEmoji.emojiJson());

    @Test
    void everyEmojiAndEverySkinToneVariationIsAPictureInUnicodeOrder() {
        // 4 gestures × (1 + 5 tones) + handshake × (1 + 1) + 30 names + 2 flags
        assertEquals(4 * 6 + 2 + 30 + 2, catalog.pictures().size());
        EmojiPicture wave = catalog.pictures().get(0);
        assertEquals("waving hand", wave.name());
        assertEquals(List.of(), wave.tones());
        EmojiPicture dark = catalog.pictures().get(5);
        assertEquals(List.of(SkinTone.DARK), dark.tones());
        assertEquals(wave.code() + "-1F3FF", dark.code());
        assertEquals(List.of(SkinTone.LIGHT, SkinTone.DARK), catalog.pictures().get(25).tones());
        assertEquals(catalog.pictures().size(), catalog.pictures(EmojiVendor.TWITTER).size());
    }

    @Test
    void captionsNameTheVendorTheEmojiItsTonesShortNamesAndCategory() {
        EmojiPicture dark = catalog.pictures().get(5);
        assertEquals("twemoji waving hand, dark skin tone; people & body, hand fingers open",
                EmojiCaptions.caption(dark, EmojiVendor.TWITTER), "the short name equal to the name is left out");
        EmojiPicture couple = catalog.pictures().get(25);
        assertEquals("noto emoji handshake, light skin tone, dark skin tone; people & body, hands",
                EmojiCaptions.caption(couple, EmojiVendor.GOOGLE));
        EmojiPicture flag = catalog.pictures().get(catalog.pictures().size() - 1);
        assertEquals("noto emoji france flag; fr, flag fr; flags, country flag", EmojiCaptions.caption(flag, EmojiVendor.GOOGLE));
        assertEquals("-1", EmojiCaptions.words("-1"), "a leading minus is not a word break");
        assertEquals("hand fingers closed", EmojiCaptions.words("hand-fingers_closed"));
    }

    @Test
    void everyOtherGestureLosesOneToneInTurnAndTheChosenNamesLoseEveryPicture() {
        EmojiSplit split = new EmojiSplit(catalog);
        // gestures 0 and 2 (waving, open) lose tones 0 and 1; the handshake (gesture 4) has no one-tone variation
        assertEquals(Map.of("waving hand", SkinTone.LIGHT, "open hand", SkinTone.MEDIUM_LIGHT), split.heldOutPairs());
        assertEquals(List.of("waving hand", "open hand"), List.copyOf(split.heldOutPairs().keySet()), "Unicode order");
        // 30 candidates, k = 30 / 24 = 1: the first 24 in order
        assertEquals(24, split.heldOutNames().size());
        assertEquals("red cat face", split.heldOutNames().get(0));
        // the first 24 take every red, blue, green and yellow name: those colour words are never seen in training
        assertEquals(java.util.Set.of("blue", "green", "red", "yellow"), split.unseenWords(catalog));
        long pairs = catalog.pictures().stream().filter(p -> split.kind(p) == EmojiSplit.Kind.HELD_OUT_PAIR).count();
        long names = catalog.pictures().stream().filter(p -> split.kind(p) == EmojiSplit.Kind.HELD_OUT_NAME).count();
        assertEquals(2, pairs);
        assertEquals(24, names);
        EmojiPicture waveLight = catalog.pictures().get(1);
        assertEquals(EmojiSplit.Kind.HELD_OUT_PAIR, split.kind(waveLight));
        assertEquals(EmojiSplit.Kind.TRAIN, split.kind(catalog.pictures().get(0)), "the gesture's default stays");
        assertEquals(EmojiSplit.Kind.TRAIN, split.kind(catalog.pictures().get(2)), "its other tones stay");
        // flags, gestures and one-word names are never candidates
        assertTrue(split.heldOutNames().stream().noneMatch(n -> n.contains("flag") || n.contains("hand")));
    }

    @Test
    void heldOutNamesAreSpreadOverTheCandidatesWhenThereAreMoreThanNeeded() {
        EmojiSplit split = new EmojiSplit(catalog, 10);
        // k = 30 / 10 = 3: candidates 1, 4, 7, ...
        assertEquals(List.of("red dog face", "red sun face"), split.heldOutNames().subList(0, 2));
        assertThrows(IllegalArgumentException.class, () -> new EmojiSplit(catalog, 31));
    }

    @Test
    void aMalformedEmojiJsonIsRefusedNamingTheEntry() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmojiCatalog.parse("[{\"unified\":\"1F600\",\"sort_order\":1}]"));
        assertTrue(e.getMessage().contains("1F600") && e.getMessage().contains("missing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmojiCatalog.parse("{}"));
    }
}
