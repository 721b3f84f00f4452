package dalle.core.data.readers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dalle.core.data.Example;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Small images, files and tar archives written by the tests themselves. */
final class Fixtures {

    private Fixtures() {}

    static BufferedImage solid(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, c.getRGB());
            }
        }
        return img;
    }

    static byte[] png(BufferedImage img) {
        return encode(img, "png");
    }

    static byte[] png(int w, int h, Color c) {
        return png(solid(w, h, c));
    }

    static byte[] jpeg(int w, int h, Color c) {
        return encode(solid(w, h, c), "jpeg");
    }

    static byte[] jpeg(BufferedImage img) {
        return encode(img, "jpeg");
    }

    /** Seeded random pixels: their PNG or JPEG is mostly image data, not headers. */
    static BufferedImage noise(int side, long seed) {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                img.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        return img;
    }

    private static byte[] encode(BufferedImage img, String format) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no " + format + " writer");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes that no decoder accepts (not PNG, not JPEG). */
    static byte[] junk() {
        byte[] b = new byte[300];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 37 + 11);
        }
        return b;
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    static Path write(Path file, String text) throws IOException {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return gz.toByteArray();
    }

    /** Reads a whole pass into a list, closing it. */
    static List<Example> readAll(ExampleSource source) {
        List<Example> out = new ArrayList<>();
        try (ExampleIterator it = source.iterator()) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    /** Asserts every pixel of {@code e} is {@code c} within {@code tol} (on the [0, 1] scale). */
    static void assertSolid(Example e, Color c, float tol) {
        float[] want = {c.getRed() / 255f, c.getGreen() / 255f, c.getBlue() / 255f};
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < e.image().height(); y++) {
                for (int x = 0; x < e.image().width(); x++) {
                    assertEquals(want[ch], e.image().get(ch, x, y), tol,
                            e.source() + " channel " + ch + " at (" + x + ", " + y + ")");
                }
            }
        }
    }

    /** Writes tar archives the way GNU tar and Python's tarfile do, one header field at a time. */
    static final class TarBuilder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** A regular file in a POSIX ustar header (names up to 100 bytes, or split with the 155-byte prefix). */
        TarBuilder file(String name, byte[] data) {
            String prefix = "";
            String rest = name;
            if (name.length() > 100) {
                int slash = name.lastIndexOf('/', 155);
                prefix = name.substring(0, slash);
                rest = name.substring(slash + 1);
            }
            header(rest, prefix, data.length, '0', true, false);
            data(data);
            return this;
        }

        TarBuilder file(String name, String text) {
            return file(name, text.getBytes(StandardCharsets.UTF_8));
        }

        /** A file whose long name comes in a GNU {@code ././@LongLink} entry of type 'L'. */
        TarBuilder gnuLongName(String name, byte[] data) {
            byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
            header("././@LongLink", "", nameBytes.length, 'L', false, false);
            data(nameBytes);
            header(name.substring(0, Math.min(100, name.length())), "", data.length, '0', false, false);
            data(data);
            return this;
        }

        /** A file whose name comes in a pax extended header ('x', record {@code path=...}). */
        TarBuilder paxPath(String name, byte[] data) {
            return paxRecords(paxRecord("path", name), "truncated-name", data);
        }

        /** One pax record, {@code "<length> <key>=<value>\n"}, its length counting itself (in UTF-8 bytes). */
        static String paxRecord(String key, String value) {
            int body = (" " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8).length;
            int len = body + 1;
            while (String.valueOf(len).length() + body != len) {
                len++;
            }
            return len + " " + key + "=" + value + "\n";
        }

        /** A file preceded by a pax extended header ('x') whose data is {@code records} as given, well-formed or not. */
        TarBuilder paxRecords(String records, String name, byte[] data) {
            byte[] pax = records.getBytes(StandardCharsets.UTF_8);
            header("PaxHeaders/x", "", pax.length, 'x', true, false);
            data(pax);
            header(name, "", data.length, '0', true, false);
            data(data);
            return this;
        }

        /** A regular file whose size field uses GNU base-256 encoding. */
        TarBuilder base256Size(String name, byte[] data) {
            header(name, "", data.length, '0', false, true);
            data(data);
            return this;
        }

        TarBuilder directory(String name) {
            header(name.endsWith("/") ? name : name + "/", "", 0, '5', true, false);
            return this;
        }

        TarBuilder symlink(String name) {
            header(name, "", 0, '2', true, false);
            return this;
        }

        /** The archive with its two end-of-archive zero blocks. */
        byte[] bytes() {
            byte[] body = out.toByteArray();
            byte[] all = new byte[body.length + 1024];
            System.arraycopy(body, 0, all, 0, body.length);
            return all;
        }

        Path writeTo(Path file) throws IOException {
            return write(file, bytes());
        }

        private void header(String name, String prefix, long size, char type, boolean posix, boolean base256) {
            byte[] h = new byte[512];
            put(h, 0, name, 100);
            put(h, 100, "0000644", 8);
            put(h, 108, "0001750", 8);
            put(h, 116, "0001750", 8);
            if (base256) {
                h[124] = (byte) 0x80;
                for (int i = 0; i < 8; i++) {
                    h[135 - i] = (byte) (size >>> (8 * i));
                }
            } else {
                put(h, 124, String.format("%011o", size), 12);
            }
            put(h, 136, String.format("%011o", 1_700_000_000L), 12);
            h[156] = (byte) type;
            if (posix) {
                put(h, 257, "ustar", 6);
                put(h, 263, "00", 2);
            } else {
                put(h, 257, "ustar  ", 8);
            }
            put(h, 265, "user", 32);
            put(h, 297, "user", 32);
            put(h, 345, prefix, 155);
            for (int i = 148; i < 156; i++) {
                h[i] = ' ';
            }
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, String.format("%06o", sum), 7);
            h[154] = 0;
            h[155] = ' ';
            out.writeBytes(h);
        }

        private void data(byte[] data) {
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        }

        private static void put(byte[] h, int at, String s, int len) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > len) {
                throw new IllegalArgumentException("'" + s + "' does not fit in " + len + " bytes");
            }
            System.arraycopy(b, 0, h, at, b.length);
        }
    }
}
