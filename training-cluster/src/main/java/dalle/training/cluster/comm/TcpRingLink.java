package dalle.training.cluster.comm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A rank's two ring sockets, non-blocking, driven by one thread: floats out to the successor and in
 * from the predecessor, each direction advancing whenever its socket is ready, so sending and
 * receiving overlap without a second thread and a full ring of exchanges cannot deadlock. Each
 * message is a 4-byte length (floats) then the floats, little-endian whatever the host's order
 * ({@link TcpCollectives#WIRE_ORDER}), streamed through 1 MiB direct buffers; received floats are
 * reduced as they land.
 *
 * <p><b>Peer timeout.</b> A direction that makes no progress for {@link TcpSettings#peerTimeout()}
 * fails the collective with a {@link CollectiveException} naming the peer (rank and address): a
 * predecessor that sends nothing, or a successor that stops reading (a frozen process, a dead host).
 */
final class TcpRingLink implements RingLink {

    /** Bytes per streamed piece; also the size of each direct buffer. */
    static final int PIECE_BYTES = 1 << 20;

    private final SocketChannel out;
    private final SocketChannel in;
    private final Selector selector;
    private final SelectionKey outKey;
    private final SelectionKey inKey;
    private final long timeoutNanos;
    private final String who;
    private final String next;
    private final String prev;
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);
    /** A received piece as floats: one bulk copy out of the buffer, then a loop the JIT vectorises. */
    private final float[] piece = new float[PIECE_BYTES / Float.BYTES];

    /** @param out and {@code in}: connected, handshaken channels (made non-blocking here) */
    TcpRingLink(SocketChannel out, SocketChannel in, long timeoutNanos, String who, String next, String prev)
            throws IOException {
        this.out = out;
        this.in = in;
        this.timeoutNanos = timeoutNanos;
        this.who = who;
        this.next = next;
        this.prev = prev;
        out.configureBlocking(false);
        in.configureBlocking(false);
        this.selector = Selector.open();
        this.outKey = out.register(selector, 0);
        this.inKey = in.register(selector, 0);
    }

    @Override
    public void exchange(float[] send, int sendOff, int sendLen, float[] recv, int recvOff, int recvLen,
                         boolean accumulate) {
        drive(new Outgoing(send, sendOff, sendLen), new Incoming(recv, recvOff, recvLen, accumulate));
    }

    @Override
    public void send(float[] data, int off, int len) {
        drive(new Outgoing(data, off, len), null);
    }

    @Override
    public void receive(float[] data, int off, int len) {
        drive(null, new Incoming(data, off, len, false));
    }

    /** Advances both directions until both are done, waiting on the selector when neither can move. */
    private void drive(Outgoing o, Incoming i) {
        long lastSent = System.nanoTime();
        long lastReceived = lastSent;
        try {
            while ((o != null && !o.done) || (i != null && !i.done)) {
                boolean moved = false;
                if (o != null && !o.done && o.advance()) {
                    moved = true;
                    lastSent = System.nanoTime();
                }
                if (i != null && !i.done && i.advance()) {
                    moved = true;
                    lastReceived = System.nanoTime();
                }
                if (moved) {
                    continue;
                }
                boolean sending = o != null && !o.done;
                boolean receiving = i != null && !i.done;
                if (!sending && !receiving) {
                    break;
                }
                long now = System.nanoTime();
                if (receiving && now - lastReceived >= timeoutNanos) {
                    throw new CollectiveException(who + ": no data from " + prev + " for " + millis(timeoutNanos)
                            + " ms (the peer timeout): it is frozen, overloaded or gone");
                }
                if (sending && now - lastSent >= timeoutNanos) {
                    throw new CollectiveException(who + ": " + next + " has read nothing for " + millis(timeoutNanos)
                            + " ms (the peer timeout): it is frozen, overloaded or gone");
                }
                long deadline = Math.min(sending ? lastSent + timeoutNanos : Long.MAX_VALUE,
                        receiving ? lastReceived + timeoutNanos : Long.MAX_VALUE);
                outKey.interestOps(sending ? SelectionKey.OP_WRITE : 0);
                inKey.interestOps(receiving ? SelectionKey.OP_READ : 0);
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - now)));
                selector.selectedKeys().clear();
                if (Thread.currentThread().isInterrupted()) {
                    throw new CollectiveException(who + ": interrupted in a collective");
                }
            }
        } catch (IOException e) {
            boolean sending = o != null && !o.done;
            throw new CollectiveException(who + ": lost the connection to " + (sending ? next + " while sending"
                    : prev + " while receiving") + ": " + e.getMessage(), e);
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** The message being sent: the length, then the floats, one buffer-full at a time. */
    private final class Outgoing {
        private final float[] data;
        private final int off;
        private final int len;
        private int queued = -1; // floats copied into the buffer so far; -1 before the header
        boolean done;

        Outgoing(float[] data, int off, int len) {
            this.data = data;
            this.off = off;
            this.len = len;
            sendBuffer.clear().limit(0);
        }

        /** One write; true when bytes left. */
        boolean advance() throws IOException {
            ByteBuffer b = sendBuffer;
            if (!b.hasRemaining()) {
                if (queued == len) {
                    done = true;
                    return false;
                }
                refill(b);
            }
            int k = out.write(b);
            if (!b.hasRemaining() && queued == len) {
                done = true;
            }
            return k > 0;
        }

        private void refill(ByteBuffer b) {
            b.clear();
            if (queued < 0) {
                b.putInt(len);
                queued = 0;
            }
            int k = Math.min(len - queued, b.remaining() / Float.BYTES);
            b.asFloatBuffer().put(data, off + queued, k);
            b.position(b.position() + k * Float.BYTES);
            queued += k;
            b.flip();
        }
    }

    /** The message being received: the length (checked), then the floats, reduced or copied as they land. */
    private final class Incoming {
        private final float[] data;
        private final int off;
        private final int len;
        private final boolean accumulate;
        private boolean header = true;
        private int got;
        boolean done;

        Incoming(float[] data, int off, int len, boolean accumulate) {
            this.data = data;
            this.off = off;
            this.len = len;
            this.accumulate = accumulate;
            receiveBuffer.clear().limit(Integer.BYTES);
        }

        /** One read (never past this message's end); true when bytes arrived. */
        boolean advance() throws IOException {
            ByteBuffer b = receiveBuffer;
            int k = in.read(b);
            if (k < 0) {
                throw new IOException("connection closed by the peer");
            }
            if (k == 0) {
                return false;
            }
            b.flip();
            if (header) {
                if (b.remaining() < Integer.BYTES) {
                    b.compact().limit(Integer.BYTES);
                    return true;
                }
                int n = b.getInt();
                if (n != len) {
                    throw new CollectiveException(who + ": expected " + len + " floats from " + prev + ", got " + n
                            + " (do the ranks call the same collectives in the same order?)");
                }
                header = false;
            }
            int floats = b.remaining() / Float.BYTES;
            if (floats > 0) {
                take(b, floats);
            }
            b.compact();
            long left = (long) (len - got) * Float.BYTES - b.position();
            b.limit((int) Math.min(b.capacity(), b.position() + left));
            if (got == len) {
                done = true;
            }
            return true;
        }

        private void take(ByteBuffer b, int floats) {
            FloatBuffer f = b.asFloatBuffer();
            int at = off + got;
            if (accumulate) {
                f.get(piece, 0, floats);
                for (int j = 0; j < floats; j++) {
                    data[at + j] = piece[j] + data[at + j];
                }
            } else {
                f.get(data, at, floats);
            }
            b.position(b.position() + floats * Float.BYTES);
            got += floats;
        }
    }

    @Override
    public void close() {
        TcpCollectives.closeQuietly(selector);
        TcpCollectives.closeQuietly(out);
        TcpCollectives.closeQuietly(in);
    }
}
