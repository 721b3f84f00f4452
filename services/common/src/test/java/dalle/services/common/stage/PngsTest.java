package dalle.services.common.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dalle.core.image.RgbImage;
import dalle.v1.Image;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/** Incoming images: read and resampled, and refused by their declared size before any pixel is decoded. */
public class PngsTest {

    /** A valid PNG header declaring {@code width × height} RGB pixels, with one tiny (truncated) data chunk. */
    public static byte[] declaring(int width, int height) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(png);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[] {8, 2, 0, 0, 0});
        chunk(out, "IHDR", ihdr.toByteArray());
        Deflater d = new Deflater();
        d.setInput(new byte[64]);
        d.finish();
        byte[] z = new byte[128];
        chunk(out, "IDAT", java.util.Arrays.copyOf(z, d.deflate(z)));
        chunk(out, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        out.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    @Test
    void anImageDeclaringMoreThanTheCapIsRefusedByItsHeaderAlone() throws Exception {
        Image huge = Image.newBuilder().setPng(ByteString.copyFrom(declaring(30_000, 30_000))).build();
        FieldException e = assertThrows(FieldException.class, () -> Pngs.read("images[0]", huge, 64));
        assertEquals("images[0].png", e.field());
        assertTrue(e.getMessage().contains("declares 30000x30000 pixels"), e.getMessage());
    }

    @Test
    void aRealImageIsReadAndResampledAndGarbageIsRefusedNamingTheField() {
        RgbImage grey = new RgbImage(8, 8, new float[3 * 64]);
        RgbImage read = Pngs.read("image", Pngs.image(grey), 16);
        assertEquals(16, read.width());
        FieldException e = assertThrows(FieldException.class, () -> Pngs.read("image",
                Image.newBuilder().setPng(ByteString.copyFromUtf8("not a png")).build(), 16));
        assertTrue(e.getMessage().startsWith("image.png: is not a readable image"), e.getMessage());
    }
}
