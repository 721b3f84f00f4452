package dalle.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our tokenizer.json, loaded by Hugging Face's tokenizers (through DJL), gives our ids. */
class HuggingFaceParityTest {

    @TempDir
    static Path dir;

    static BpeTokenizer ours;
    static Path json;

    @BeforeAll
    static void train() throws Exception {
        ours = BpeTokenizer.train(CaptionCorpus.captions(1, 4000), 1024);
        json = dir.resolve("tokenizer.json");
        ours.save(json);
    }

    private static HuggingFaceTokenizer huggingFace(Path file) throws Exception {
        return HuggingFaceTokenizer.newInstance(file, Map.of(
                "addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    }

    private static int[] ids(HuggingFaceTokenizer hf, String text) {
        return Arrays.stream(hf.encode(text, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
    }

    @Test
    void heldOutCaptionsEncodeToHuggingFaceIds() throws Exception {
        List<String> captions = new ArrayList<>(CaptionCorpus.captions(2, 400));
        captions.addAll(List.of(
                "", " ", "   ", "A RED Circle.", "café  CAFÉ\tcafe\u0301", "it's   a 🍎!!", "  leading and trailing  ",
                "ΣΑΣ ΟΔΟΣ", "İ", "<pad>", "<pad><pad>", "a<pad>b", "<PAD>", "x \n\n y", "1,000,000 and 3.14159",
                "'S 'LL 'Re", "tab\tseparated\t\tvalues", "\u00A0nbsp\u00A0", "ideographic\u3000space",
                "zero\u200Bwidth", "a" + "!".repeat(300), "🟥".repeat(50), "ᾼ ǅ ﬀ"));
        int mismatches = 0;
        StringBuilder report = new StringBuilder();
        try (HuggingFaceTokenizer hf = huggingFace(json)) {
            for (String caption : captions) {
                int[] expected = ids(hf, caption);
                int[] actual = ours.encode(caption);
                if (!Arrays.equals(expected, actual)) {
                    mismatches++;
                    if (mismatches < 10) {
                        report.append("\n").append(escape(caption)).append("\n  hf:   ").append(Arrays.toString(expected))
                                .append(" ").append(Arrays.toString(hf.encode(caption, false, false).getTokens()))
                                .append("\n  ours: ").append(Arrays.toString(actual));
                    }
                }
            }
        }
        assertEquals(0, mismatches, report.toString());
    }

    @Test
    void huggingFaceDecodesOurIdsToOurText() throws Exception {
        try (HuggingFaceTokenizer hf = huggingFace(json)) {
            for (String caption : CaptionCorpus.captions(3, 200)) {
                int[] ids = ours.encode(caption);
                String expected = hf.decode(Arrays.stream(ids).asLongStream().toArray(), true);
                assertEquals(expected, ours.decode(ids), escape(caption));
            }
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) {
                sb.appendCodePoint(cp);
            } else {
                sb.append(String.format("\\u{%X}", cp));
            }
        });
        return sb.toString();
    }
}
