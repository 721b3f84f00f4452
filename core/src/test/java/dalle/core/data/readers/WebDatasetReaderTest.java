package dalle.core.data.readers;

import static dalle.core.data.readers.Fixtures.assertSolid;
import static dalle.core.data.readers.Fixtures.readAll;
import static dalle.core.data.readers.Fixtures.write;
import static dalle.core.data.readers.FolderReaderTest.captions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.core.data.Example;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebDatasetReaderTest {

    @TempDir
    Path dir;

    @Test
    void groupsConsecutiveMembersByKeyIntoSamples() throws IOException {
        Path shard = new Fixtures.TarBuilder()
                .file("00/000000.png", Fixtures.png(30, 20, new Color(200, 20, 40)))
                .file("00/000000.txt", "a red square\n")
                .file("00/000000.cls", "3")
                .file("00/000001.json", "{\"caption\": \"a blue square\", \"width\": 16}")
                .file("00/000001.jpg", Fixtures.jpeg(16, 16, Color.BLUE))
                .file("00/000002.seg.png", Fixtures.png(4, 4, Color.BLACK)) // extension "seg.png": not an image
                .file("00/000002.jpeg", Fixtures.jpeg(16, 16, Color.GREEN))
                .file("00/000002.txt", "a green square")
                .writeTo(dir.resolve("shard-000.tar"));

        WebDatasetReader reader = WebDatasetReader.of(shard, ReaderOptions.of(8));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("a red square", "a blue square", "a green square"), captions(examples));
        assertEquals(shard + ":00/000000", examples.get(0).source());
        assertEquals(8, examples.get(0).image().width());
        assertSolid(examples.get(0), new Color(200, 20, 40), 1e-6f);
        assertSolid(examples.get(1), Color.BLUE, 0.03f);
        assertSolid(examples.get(2), Color.GREEN, 0.03f);
        assertEquals(3, reader.stats().read());
        assertEquals(0, reader.stats().skipped() + reader.stats().sourceErrors());
    }

    @Test
    void badSamplesAreSkippedAndCountedWhileTheGoodOnesAroundThemAreKept() throws IOException {
        Path shard = new Fixtures.TarBuilder()
                .file("a.png", Fixtures.png(8, 8, Color.RED)).file("a.txt", "good before")
                .file("b.jpg", Fixtures.junk()).file("b.txt", "corrupt image")
                .file("c.png", Fixtures.png(8, 8, Color.RED)).file("c.cls", "no caption")
                .file("d.png", Fixtures.png(8, 8, Color.RED)).file("d.txt", "y".repeat(31))
                .file("e.txt", "no image")
                .file("f.png", Fixtures.png(8, 8, Color.RED)).file("f.json", "{\"text\": \"wrong field\"}")
                .file("g.png", Fixtures.png(8, 8, Color.RED)).file("g.json", "{not json")
                .file("h.png", Fixtures.png(8, 8, Color.RED)).file("h.txt", "good after")
                .writeTo(dir.resolve("bad.tar"));

        WebDatasetReader reader = WebDatasetReader.of(shard, ReaderOptions.of(4).withMaxCaptionChars(30));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("good before", "good after"), captions(examples));
        ReadStats s = reader.stats();
        assertEquals(1, s.skippedCorruptImage(), s.problems().toString());
        assertEquals(2, s.skippedMissingCaption(), s.problems().toString());
        assertEquals(1, s.skippedOversizedCaption());
        assertEquals(1, s.skippedMissingImage());
        assertEquals(1, s.skippedOther(), s.problems().toString());
        assertEquals(0, s.sourceErrors());
        assertTrue(s.problems().get(0).startsWith(shard + ":b"), s.problems().toString());
    }

    @Test
    void aTruncatedShardIsCountedAndReadingGoesOnWithTheNextShard() throws IOException {
        byte[] big = Fixtures.png(Fixtures.noise(64, 7));
        byte[] whole = new Fixtures.TarBuilder()
                .file("0.png", Fixtures.png(8, 8, Color.RED)).file("0.txt", "kept")
                .file("1.png", big).file("1.txt", "cut off")
                .bytes();
        Path cut = write(dir.resolve("a-cut.tar"), Arrays.copyOf(whole, 512 * 4 + 512 + big.length / 2));
        Path next = new Fixtures.TarBuilder()
                .file("2.png", Fixtures.png(8, 8, Color.RED)).file("2.txt", "next shard")
                .writeTo(dir.resolve("b-next.tar"));

        WebDatasetReader reader =
                new WebDatasetReader(List.of(cut, dir.resolve("missing.tar"), next), ReaderOptions.of(4));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("kept", "next shard"), captions(examples));
        ReadStats s = reader.stats();
        assertEquals(2, s.sourceErrors(), s.problems().toString());
        assertEquals(1, s.skippedOther(), "the sample whose image was cut off");
        assertTrue(s.problems().stream().anyMatch(p -> p.startsWith(cut.toString())), s.problems().toString());
        assertTrue(s.problems().stream().anyMatch(p -> p.contains("missing.tar")), s.problems().toString());
    }

    @Test
    void aSampleCompleteBeforeTheCutIsKept() throws IOException {
        byte[] whole = new Fixtures.TarBuilder()
                .file("0.png", Fixtures.png(8, 8, Color.RED)).file("0.txt", "complete")
                .file("1.png", Fixtures.png(8, 8, Color.RED))
                .bytes();
        int firstTwoMembers = 512 + pad(Fixtures.png(8, 8, Color.RED).length) + 512 + 512;
        Path cut = write(dir.resolve("cut.tar"), Arrays.copyOf(whole, firstTwoMembers + 100)); // inside 1.png's header
        WebDatasetReader reader = WebDatasetReader.of(cut, ReaderOptions.of(4));
        assertEquals(List.of("complete"), captions(readAll(reader)));
        assertEquals(1, reader.stats().sourceErrors());
    }

    @Test
    void aDirectoryOfShardsIsReadInNameOrderIncludingGzippedOnes() throws IOException {
        new Fixtures.TarBuilder().file("x.png", Fixtures.png(4, 4, Color.RED)).file("x.txt", "second")
                .writeTo(dir.resolve("shard-001.tar"));
        new Fixtures.TarBuilder().file("x.png", Fixtures.png(4, 4, Color.RED)).file("x.txt", "first")
                .writeTo(dir.resolve("shard-000.tar"));
        byte[] tar = new Fixtures.TarBuilder()
                .file("x.png", Fixtures.png(4, 4, Color.RED)).file("x.txt", "third").bytes();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(tar);
        }
        write(dir.resolve("shard-002.tar.gz"), gz.toByteArray());
        write(dir.resolve("readme.txt"), "not a shard");

        WebDatasetReader reader = WebDatasetReader.of(dir, ReaderOptions.of(4));

        assertEquals(3, reader.shards().size());
        assertEquals(List.of("first", "second", "third"), captions(readAll(reader)));
    }

    @Test
    void aFileThatIsNotATarIsASourceError() throws IOException {
        Path notTar = write(dir.resolve("fake.tar"), "this is not a tar file at all, just text".repeat(20));
        WebDatasetReader reader = WebDatasetReader.of(notTar, ReaderOptions.of(4));
        assertEquals(0, readAll(reader).size());
        assertEquals(1, reader.stats().sourceErrors());
        assertTrue(reader.stats().problems().get(0).contains("checksum"), reader.stats().problems().toString());
    }

    @Test
    void aDirectoryWithoutShardsIsAnErrorNamingIt() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        DataSourceException e = assertThrows(DataSourceException.class,
                () -> WebDatasetReader.of(dir.resolve("empty"), ReaderOptions.of(4)));
        assertTrue(e.getMessage().startsWith(dir.resolve("empty").toString()), e.getMessage());
    }

    private static final String LONG_DIR =
            "a-directory-name-long-enough-that-the-path-does-not-fit-in-one-hundred-bytes/";

    @Test
    void longMemberNamesFromGnuAndPaxHeadersGiveTheSampleKeys() throws IOException {
        String gnu = LONG_DIR + LONG_DIR + "000000"; // > 100 bytes: GNU tar writes a ././@LongLink entry
        String pax = LONG_DIR + LONG_DIR + "000001"; // > 100 bytes: a pax writer puts it in a "path" record
        Path shard = new Fixtures.TarBuilder()
                .gnuLongName(gnu + ".png", Fixtures.png(8, 8, Color.RED))
                .gnuLongName(gnu + ".txt", utf8("a red square"))
                .paxPath(pax + ".png", Fixtures.png(8, 8, Color.BLUE)) // header name: "truncated-name"
                .paxPath(pax + ".txt", utf8("a blue square"))
                .writeTo(dir.resolve("long-names.tar"));

        WebDatasetReader reader = WebDatasetReader.of(shard, ReaderOptions.of(4));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("a red square", "a blue square"), captions(examples));
        assertEquals(List.of(shard + ":" + gnu, shard + ":" + pax), examples.stream().map(Example::source).toList());
        assertSolid(examples.get(0), Color.RED, 1e-6f);
        assertSolid(examples.get(1), Color.BLUE, 1e-6f);
        assertEquals(0, reader.stats().skipped() + reader.stats().sourceErrors(), reader.stats().problems().toString());
    }

    @Test
    void aMalformedPaxHeaderNeverAbortsThePass() throws IOException {
        byte[] png = Fixtures.png(8, 8, Color.RED);
        // "2 " claims 2 bytes, too short for "key=value\n": it says nothing, and 1.png keeps its own name
        Path shortRecord = new Fixtures.TarBuilder()
                .file("0.png", png).file("0.txt", "before")
                .paxRecords("2 ", "1.png", png).file("1.txt", "after")
                .writeTo(dir.resolve("a-short-record.tar"));
        // the same record before a real one: "14 path" is read as its keyword, then "3.png" where a length belongs
        Path badRecord = new Fixtures.TarBuilder()
                .file("2.png", png).file("2.txt", "kept")
                .paxRecords("2 " + Fixtures.TarBuilder.paxRecord("path", "3.png"), "3.png", png).file("3.txt", "lost")
                .writeTo(dir.resolve("b-bad-record.tar"));
        Path next = new Fixtures.TarBuilder().file("4.png", png).file("4.txt", "next shard")
                .writeTo(dir.resolve("c-next.tar"));

        WebDatasetReader reader = new WebDatasetReader(List.of(shortRecord, badRecord, next), ReaderOptions.of(4));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("before", "after", "kept", "next shard"), captions(examples));
        ReadStats s = reader.stats();
        assertEquals(1, s.sourceErrors(), s.problems().toString());
        assertEquals(0, s.skipped(), s.problems().toString());
        String problem = s.problems().get(0);
        assertTrue(problem.startsWith(badRecord + ": "), problem);
        assertTrue(problem.toLowerCase(Locale.ROOT).contains("pax"), problem);
    }

    @Test
    void aShardCutInsideALongNameAPaxHeaderOrItsGzipStreamIsCountedAndTheNextShardIsRead() throws IOException {
        byte[] png = Fixtures.png(8, 8, Color.RED);
        byte[] noise = Fixtures.png(Fixtures.noise(64, 3));
        int firstSample = 512 + pad(png.length) + 512 + 512; // 0.png and 0.txt
        byte[] gnu = new Fixtures.TarBuilder().file("0.png", png).file("0.txt", "kept before a long name")
                .gnuLongName(LONG_DIR + LONG_DIR + "1.png", png).bytes();
        byte[] pax = new Fixtures.TarBuilder().file("0.png", png).file("0.txt", "kept before a pax header")
                .paxPath(LONG_DIR + LONG_DIR + "1.png", png).bytes();
        byte[] tgz = Fixtures.gzip(new Fixtures.TarBuilder().file("0.png", png).file("0.txt", "kept before the cut")
                .file("1.png", noise).file("1.txt", "lost").bytes());
        Path gnuCut = write(dir.resolve("a-gnu.tar"), Arrays.copyOf(gnu, firstSample + 512 + 40)); // in the name
        Path paxCut = write(dir.resolve("b-pax.tar"), Arrays.copyOf(pax, firstSample + 512 + 40)); // in the records
        Path gzCut = write(dir.resolve("c-cut.tar.gz"), Arrays.copyOf(tgz, tgz.length * 2 / 3));
        Path next = new Fixtures.TarBuilder().file("2.png", png).file("2.txt", "next shard")
                .writeTo(dir.resolve("d-next.tar"));

        WebDatasetReader reader = new WebDatasetReader(List.of(gnuCut, paxCut, gzCut, next), ReaderOptions.of(4));
        List<Example> examples = readAll(reader);

        assertEquals(List.of("kept before a long name", "kept before a pax header", "kept before the cut", "next shard"),
                captions(examples));
        ReadStats s = reader.stats();
        assertEquals(3, s.sourceErrors(), s.problems().toString());
        for (Path cut : List.of(gnuCut, paxCut, gzCut)) {
            assertTrue(s.problems().stream().anyMatch(p -> p.startsWith(cut + ": ") && p.contains("ends early")),
                    cut + " in " + s.problems());
        }
    }

    @Test
    void randomDamageToAShardNeverAbortsThePassAndTheNextShardIsAlwaysRead() throws IOException {
        byte[] png = Fixtures.png(8, 8, Color.RED);
        byte[] whole = new Fixtures.TarBuilder()
                .directory("d")
                .file("d/0.png", png).file("d/0.txt", "zero")
                .gnuLongName(LONG_DIR + LONG_DIR + "1.png", png).gnuLongName(LONG_DIR + LONG_DIR + "1.txt", utf8("one"))
                .paxRecords(Fixtures.TarBuilder.paxRecord("path", LONG_DIR + LONG_DIR + "2.png")
                        + Fixtures.TarBuilder.paxRecord("mtime", "1700000000.25")
                        + Fixtures.TarBuilder.paxRecord("size", Integer.toString(png.length)), "2.png", png)
                .paxPath(LONG_DIR + LONG_DIR + "2.txt", utf8("two"))
                .symlink("d/link")
                .base256Size("3.png", png).base256Size("3.txt", utf8("three"))
                .bytes();
        Path next = new Fixtures.TarBuilder().file("n.png", png).file("n.txt", "next shard")
                .writeTo(dir.resolve("next.tar"));
        SplittableRandom rng = new SplittableRandom(2024);
        int damaged = 0;
        for (int variant = 0; variant < 300; variant++) {
            byte[] bad;
            if (variant % 3 == 0) {
                bad = Arrays.copyOf(whole, rng.nextInt(whole.length));
            } else {
                bad = whole.clone();
                for (int flips = 1 + rng.nextInt(4); flips > 0; flips--) {
                    // half the time a byte that means something in a header: a digit, space, '=', newline or NUL
                    bad[rng.nextInt(bad.length)] = rng.nextBoolean() ? (byte) rng.nextInt(256)
                            : (byte) "0123456789 =\n\0".charAt(rng.nextInt(14));
                }
            }
            Path shard = write(dir.resolve("damaged.tar"), bad);

            WebDatasetReader reader = new WebDatasetReader(List.of(shard, next), ReaderOptions.of(4));
            List<String> captions = captions(readAll(reader));

            ReadStats s = reader.stats();
            String context = "variant " + variant + ": " + captions + ", " + s + " " + s.problems();
            assertEquals("next shard", captions.get(captions.size() - 1), context);
            assertEquals(captions.size(), s.read(), context);
            damaged += s.sourceErrors() > 0 ? 1 : 0;
            assertTrue(s.problems().stream().filter(p -> !p.startsWith(shard + ":")).toList().isEmpty(), context);
        }
        assertTrue(damaged > 100, "most variants damage the archive itself, not just a record: " + damaged);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int pad(int n) {
        return (n + 511) / 512 * 512;
    }
}
