package dalle.training.cluster.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies a worker's output to the coordinator's console as it comes (progress lines that redraw with
 * {@code \r} included) and remembers its last non-blank line, so that the coordinator can say why the
 * worker died.
 */
final class OutputTail extends Thread {

    private final InputStream in;
    private final OutputStream out;
    private final StringBuilder current = new StringBuilder();
    private volatile String last = "";

    OutputTail(InputStream in, OutputStream out, String name) {
        super(name);
        this.in = in;
        this.out = out;
        setDaemon(true);
    }

    @Override
    public void run() {
        byte[] buffer = new byte[8192];
        try {
            for (int k; (k = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, k);
                out.flush();
                remember(buffer, k);
            }
        } catch (IOException e) {
            // the worker is gone: its last line is what it wrote before
        } finally {
            endLine();
        }
    }

    /** The last non-blank line seen, after waiting up to {@code millis} for the stream to end. */
    String lastLine(long millis) throws InterruptedException {
        join(millis);
        return last;
    }

    private void remember(byte[] b, int k) {
        for (int i = 0; i < k; i++) {
            if (b[i] == '\n' || b[i] == '\r') {
                endLine();
            } else if (current.length() < 4096) {
                current.append((char) (b[i] & 0xFF));
            }
        }
    }

    private void endLine() {
        String line = new String(current.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).strip();
        if (!line.isEmpty()) {
            last = line;
        }
        current.setLength(0);
    }
}
