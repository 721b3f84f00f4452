package dalle.core.data.readers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TarReaderTest {

    private static final String LONG_DIR =
            "a-directory-name-long-enough-that-the-path-does-not-fit-in-one-hundred-bytes/";

    @Test
    void readsFileNamesAndContentsSkippingDirectoriesAndLinks() throws IOException {
        byte[] tar = new Fixtures.TarBuilder()
                .directory("shard")
                .file("shard/000.txt", "zero")
                .symlink("shard/link")
                .file("shard/001.bin", new byte[1000])
                .file("shard/002.txt", "")
                .bytes();
        List<String> seen = new ArrayList<>();
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
            for (Optional<TarReader.Entry> e = r.next(); e.isPresent(); e = r.next()) {
                String name = e.get().name();
                Object content = name.endsWith(".txt") ? new String(r.read(), StandardCharsets.UTF_8) : e.get().size();
                seen.add(name + "=" + content);
            }
        }
        assertEquals(List.of("shard/000.txt=zero", "shard/001.bin=1000", "shard/002.txt="), seen);
    }

    @Test
    void longNamesFromUstarPrefixGnuLongLinkAndPaxAreHonoured() throws IOException {
        String ustar = LONG_DIR + "sub/" + "x".repeat(40) + "-ustar.txt"; // > 100 bytes: split into prefix + name
        String gnu = LONG_DIR + LONG_DIR + "gnu.txt";
        String pax = LONG_DIR + LONG_DIR + "pax.txt";
        byte[] tar = new Fixtures.TarBuilder()
                .file(ustar, "u")
                .gnuLongName(gnu, "g".getBytes(StandardCharsets.UTF_8))
                .paxPath(pax, "p".getBytes(StandardCharsets.UTF_8))
                .base256Size("b256.txt", "b".getBytes(StandardCharsets.UTF_8))
                .bytes();
        List<String> seen = new ArrayList<>();
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
            for (Optional<TarReader.Entry> e = r.next(); e.isPresent(); e = r.next()) {
                seen.add(e.get().name() + "=" + new String(r.read(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(List.of(ustar + "=u", gnu + "=g", pax + "=p", "b256.txt=b"), seen);
    }

    @Test
    void aStreamCutInsideDataThrowsEofNamingTheEntry() throws IOException {
        byte[] tar = new Fixtures.TarBuilder().file("a.txt", "a").file("b.bin", new byte[2000]).bytes();
        byte[] cut = Arrays.copyOf(tar, 512 * 3 + 100);
        try (TarReader r = new TarReader(new ByteArrayInputStream(cut))) {
            assertEquals("a.txt", r.next().orElseThrow().name());
            assertEquals("b.bin", r.next().orElseThrow().name());
            EOFException e = assertThrows(EOFException.class, r::read);
            assertTrue(e.getMessage().contains("b.bin"), e.getMessage());
        }
    }

    @Test
    void aStreamCutInsideAHeaderThrowsEof() throws IOException {
        byte[] tar = new Fixtures.TarBuilder().file("a.txt", "a").file("b.txt", "b").bytes();
        try (TarReader r = new TarReader(new ByteArrayInputStream(Arrays.copyOf(tar, 512 * 2 + 200)))) {
            assertEquals("a.txt", r.next().orElseThrow().name());
            assertThrows(EOFException.class, r::next);
        }
    }

    @Test
    void aStreamEndingCleanlyWithoutTheZeroBlocksEndsTheArchive() throws IOException {
        byte[] tar = new Fixtures.TarBuilder().file("a.txt", "a").bytes();
        try (TarReader r = new TarReader(new ByteArrayInputStream(Arrays.copyOf(tar, 1024)))) {
            assertArrayEquals("a".getBytes(StandardCharsets.UTF_8), r.next().map(e -> readQuietly(r)).orElseThrow());
            assertTrue(r.next().isEmpty());
        }
    }

    @Test
    void aHeaderWithABadChecksumIsRejected() throws IOException {
        byte[] tar = new Fixtures.TarBuilder().file("a.txt", "a").bytes();
        tar[10] ^= 1;
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
            IOException e = assertThrows(IOException.class, r::next);
            assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        }
    }

    @Test
    void aChecksumFieldThatIsNotANumberIsABadChecksumNamingTheOffset() throws IOException {
        byte[] tar = new Fixtures.TarBuilder().file("a.txt", "a").file("b.txt", "b").bytes();
        tar[1024 + 150] = 'x'; // b.txt's header: Commons Compress cannot parse the field as octal
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
            assertEquals("a.txt", r.next().orElseThrow().name());
            IOException e = assertThrows(IOException.class, r::next);
            assertTrue(e.getMessage().contains("bad tar header checksum at byte 1024, after 'a.txt'"), e.getMessage());
        }
    }

    private static byte[] readQuietly(TarReader r) {
        try {
            return r.read();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
