package dalle.tools.localkafka;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** The end of a process's log, for error messages that say why a broker or a service did not start. */
public final class LogTail {

    private LogTail() {}

    /**
     * "; its last lines:" and the file's last {@code lines} lines (read from its last 8 KiB), indented;
     * "" when the file is empty or cannot be read.
     */
    public static String of(Path file, int lines) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, f.length() - 8192);
            byte[] bytes = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(bytes);
            List<String> all = new String(bytes, StandardCharsets.UTF_8).lines().toList();
            List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
            return last.isEmpty() ? "" : "; its last lines:\n  " + String.join("\n  ", last);
        } catch (IOException e) {
            return "";
        }
    }
}
