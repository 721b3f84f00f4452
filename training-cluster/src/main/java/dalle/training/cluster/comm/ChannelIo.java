package dalle.training.cluster.comm;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * Whole-buffer reads and writes on a non-blocking channel registered with a selector, bounded by an
 * absolute deadline ({@link System#nanoTime()}): the handshake's I/O, where a peer that stalls must
 * not hold a thread for longer than the handshake timeout.
 */
final class ChannelIo {

    private ChannelIo() {}

    /**
     * Fills {@code b} from the key's channel.
     *
     * @throws SocketTimeoutException at the deadline
     * @throws EOFException when the peer closed the connection first
     */
    static void readFully(SelectionKey key, ByteBuffer b, long deadline) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        while (b.hasRemaining()) {
            int k = ch.read(b);
            if (k < 0) {
                throw new EOFException("connection closed by the peer");
            }
            if (k == 0) {
                await(key, SelectionKey.OP_READ, deadline);
            }
        }
    }

    /** Writes all of {@code b}; {@link SocketTimeoutException} at the deadline. */
    static void writeFully(SelectionKey key, ByteBuffer b, long deadline) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        while (b.hasRemaining()) {
            if (ch.write(b) == 0) {
                await(key, SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /** Waits until the channel is ready for {@code op} (or spuriously), at most until the deadline. */
    static void await(SelectionKey key, int op, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        key.interestOps(op);
        key.selector().select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        key.selector().selectedKeys().clear();
        if (Thread.currentThread().isInterrupted()) {
            throw new java.io.InterruptedIOException("interrupted");
        }
    }
}
