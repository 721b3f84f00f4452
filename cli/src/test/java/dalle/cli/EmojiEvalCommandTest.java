package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dalle.core.bundle.ModelBundle;
import dalle.core.clip.ClipConfig;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.data.emoji.EmojiPreparation;
import dalle.core.dvae.Dvae;
import dalle.core.dvae.DvaeConfig;
import dalle.core.image.RgbImage;
import dalle.core.io.SafeTensors;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import dalle.core.transformer.PriorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dalle eval} of a bundle named emoji-*: the emoji evaluation on prepared data (here a hand-made folder of
 * flat-colour pictures and an untrained bundle, so the numbers are chance, but every part of the report is there
 * and the same run gives the same table).
 */
class EmojiEvalCommandTest {

    @TempDir static Path dir;
    static Path data;
    static Path bundle;

    /** A prepared-emoji folder: per vendor, two plain pictures, a gesture in three tones (one held out), a held-out name. */
    @BeforeAll
    static void prepare() throws Exception {
        data = dir.resolve("emoji");
        List<EmojiPreparation.Entry> entries = new ArrayList<>();
        int n = 0;
        for (String vendor : List.of("google", "twitter")) {
            String style = vendor.equals("google") ? "noto emoji" : "twemoji";
            Object[][] pictures = {
                    {"1F600", "grinning face", List.of(), "train"},
                    {"1F34E", "red apple", List.of(), "train"},
                    {"1F44D", "thumbs up sign", List.of(), "train"},
                    {"1F44D-1F3FB", "thumbs up sign", List.of("LIGHT"), "train"},
                    {"1F44D-1F3FF", "thumbs up sign", List.of("DARK"), "held-out-pair"},
                    {"1F431", "cat face", List.of(), "held-out-name"}};
            for (Object[] p : pictures) {
                @SuppressWarnings("unchecked") List<String> tones = (List<String>) p[2];
                String caption = style + " " + p[1] + (tones.isEmpty() ? "" : ", " + tones.get(0).toLowerCase()
                        + " skin tone");
                String dirName = p[3].equals("train") ? "train" : "held-out";
                String file = dirName + "/" + vendor + "-" + ((String) p[0]).toLowerCase() + ".png";
                Files.createDirectories(data.resolve(dirName));
                float[] v = new float[3 * 64 * 64];
                Arrays.fill(v, 0, 4096, (n % 3) / 2f);
                Arrays.fill(v, 4096, 8192, (n % 5) / 4f);
                Arrays.fill(v, 8192, 12288, (n % 7) / 6f);
                n++;
                Files.write(data.resolve(file), new RgbImage(64, 64, v).toPng());
                Files.writeString(data.resolve(file.replace(".png", ".txt")), caption + "\n");
                entries.add(new EmojiPreparation.Entry(vendor, (String) p[0], (String) p[1], tones, caption,
                        (String) p[3], file));
            }
        }
        List<Map<String, String>> packages = new ArrayList<>();
        for (String vendor : List.of("google", "twitter")) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("vendor", vendor);
            m.put("package", "emoji-datasource-" + vendor);
            m.put("version", "0.0.0-test");
            m.put("integrity", "sha512-test");
            packages.add(m);
        }
        EmojiPreparation.Index index = new EmojiPreparation.Index(EmojiPreparation.Index.FORMAT, packages, "#ffffff", 1,
                Map.of("thumbs up sign", "DARK"), List.of("cat face"), List.of(), Map.of(), entries);
        Files.writeString(data.resolve(EmojiPreparation.INDEX), new Gson().toJson(index));

        List<String> captions = entries.stream().map(EmojiPreparation.Entry::caption).toList();
        BpeTokenizer tok = BpeTokenizer.train(captions, 300);
        try (NDManager m = NDManager.newBaseManager()) {
            bundle = dir.resolve("bundle");
            ModelBundle.save(bundle, "emoji-untrained", "custom", "untrained, for the test",
                    tok, new Dvae(m, DvaeConfig.tiny(), 1),
                    new DallePrior(m, PriorConfig.tiny(tok.vocabSize(), tok.padId()), 2),
                    new ContrastiveScorer(m, ClipConfig.tiny(tok.vocabSize(), tok.padId()), 3), SafeTensors.Storage.F32);
        }
    }

    @Test
    void anEmojiBundleIsJudgedByNearestNeighboursOnEverySetWithTheCeilingAndPsnr() throws Exception {
        Path out = dir.resolve("eval");
        CliRun r = CliRun.dalle("eval", "-m", bundle.toString(), "--data", data.toString(), "--captions-per-set", "1",
                "--n", "1,2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        String md = Files.readString(out.resolve("eval.md"));
        for (String row : List.of("| seen captions | 2 |", "| seen gesture × skin tone | 2 |",
                "| held-out gesture × skin tone | 2 |", "| held-out names | 2 |")) {
            assertTrue(md.contains(row), row + " in\n" + md);
        }
        assertTrue(md.contains("Judge ceiling: the other vendor's rendering of each of 6 pictures, judged against the"
                + " google set"), md);
        assertTrue(md.contains("dVAE reconstruction of 4 images (emoji held-out pictures, all 4"), md);
        assertTrue(Files.size(out.resolve("accuracy-vs-n.png")) > 1000);
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("eval.json"))).getAsJsonObject();
        for (var set : json.getAsJsonArray("caption_match")) {
            for (var byN : set.getAsJsonObject().getAsJsonArray("by_n")) {
                double top1 = byN.getAsJsonObject().get("top1").getAsDouble();
                double top5 = byN.getAsJsonObject().get("top5").getAsDouble();
                assertTrue(0 <= top1 && top1 <= top5 && top5 <= 1, byN.toString());
            }
        }
        // six pictures per vendor: every candidate's rank of the truth is in [0, 6)
        for (var set : json.getAsJsonArray("caption_match")) {
            for (var c : set.getAsJsonObject().getAsJsonArray("details")) {
                for (var rank : c.getAsJsonObject().getAsJsonArray("ranks")) {
                    assertTrue(rank.getAsInt() >= 0 && rank.getAsInt() < 6, c.toString());
                }
                assertEquals(2, c.getAsJsonObject().getAsJsonArray("ranks").size(), "max N candidates");
            }
        }

        Path again = dir.resolve("again");
        CliRun r2 = CliRun.dalle("eval", "-m", bundle.toString(), "--data", data.toString(), "--captions-per-set", "1",
                "--n", "1,2", "--out", again.toString());
        assertEquals(0, r2.exit(), r2.err());
        assertEquals(withoutTime(md), withoutTime(Files.readString(again.resolve("eval.md"))), "same bundle, same table");
    }

    @Test
    void dvaeAloneIsMeasuredOnTheHeldOutAndTrainingPictures() {
        CliRun r = CliRun.dalle("eval", "--dvae", bundle.resolve("dvae").toString(), "--data", data.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("4 held-out pictures: PSNR") && r.out().contains("4 training pictures"), r.out());
    }

    @Test
    void missingDataSaysHowToPrepareIt() {
        CliRun r = CliRun.dalle("eval", "-m", bundle.toString(), "--data", dir.resolve("nothing").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("dalle data emoji"), r.err());
    }

    private static String withoutTime(String md) {
        return String.join("\n", md.lines().filter(l -> !l.startsWith("Time: ")).toList());
    }
}
