package dalle.training.cluster.comm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A rank's two ring sockets: floats out to the successor (written on a dedicated sender thread, so
 * that sending and receiving overlap) and floats in from the predecessor (read on the caller's
 * thread, one 1 MiB piece at a time, each piece reduced as soon as it lands).
 */
final class TcpRingLink implements RingLink {

    /** Bytes per streamed piece; also the size of each direct buffer. */
    static final int PIECE_BYTES = 1 << 20;

    private final SocketChannel out;
    private final SocketChannel in;
    private final String who;
    private final String next;
    private final String prev;
    private final ExecutorService sender;
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);
    private final ByteBuffer header = ByteBuffer.allocateDirect(4).order(TcpCollectives.WIRE_ORDER);
    /** A received piece as floats: one bulk copy out of the buffer, then a loop the JIT vectorises. */
    private final float[] piece = new float[PIECE_BYTES / Float.BYTES];

    TcpRingLink(SocketChannel out, SocketChannel in, String who, String next, String prev) {
        this.out = out;
        this.in = in;
        this.who = who;
        this.next = next;
        this.prev = prev;
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "collectives-send");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void exchange(float[] send, int sendOff, int sendLen, float[] recv, int recvOff, int recvLen,
                         boolean accumulate) {
        Future<?> sent = sender.submit(() -> {
            send(send, sendOff, sendLen);
            return null;
        });
        try {
            read(recv, recvOff, recvLen, accumulate);
        } catch (RuntimeException e) {
            sent.cancel(true);
            throw e;
        }
        try {
            sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException(who + ": interrupted while sending to " + next, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof CollectiveException ce ? ce
                    : new CollectiveException(who + ": sending to " + next + " failed", e.getCause());
        }
    }

    @Override
    public void send(float[] data, int off, int len) {
        try {
            ByteBuffer b = sendBuffer;
            b.clear();
            b.putInt(len).flip();
            writeFully(b);
            for (int done = 0; done < len; ) {
                int k = Math.min(len - done, PIECE_BYTES / Float.BYTES);
                b.clear();
                b.asFloatBuffer().put(data, off + done, k);
                b.limit(k * Float.BYTES);
                writeFully(b);
                done += k;
            }
        } catch (IOException e) {
            throw new CollectiveException(who + ": lost the connection to " + next + " while sending: " + e.getMessage(), e);
        }
    }

    @Override
    public void receive(float[] data, int off, int len) {
        read(data, off, len, false);
    }

    private void read(float[] data, int off, int len, boolean accumulate) {
        try {
            header.clear();
            readFully(header);
            int got = header.flip().getInt();
            if (got != len) {
                throw new CollectiveException(who + ": expected " + len + " floats from " + prev + ", got " + got
                        + " (do the ranks call the same collectives in the same order?)");
            }
            ByteBuffer b = receiveBuffer;
            for (int done = 0; done < len; ) {
                int k = Math.min(len - done, PIECE_BYTES / Float.BYTES);
                b.clear().limit(k * Float.BYTES);
                readFully(b);
                b.flip();
                FloatBuffer f = b.asFloatBuffer();
                if (accumulate) {
                    f.get(piece, 0, k);
                    int base = off + done;
                    for (int i = 0; i < k; i++) {
                        data[base + i] = piece[i] + data[base + i];
                    }
                } else {
                    f.get(data, off + done, k);
                }
                done += k;
            }
        } catch (IOException e) {
            throw new CollectiveException(who + ": lost the connection to " + prev + " while receiving: " + e.getMessage(), e);
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (in.read(b) < 0) {
                throw new IOException("connection closed by the peer");
            }
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
        TcpCollectives.closeQuietly(out);
        TcpCollectives.closeQuietly(in);
    }
}
