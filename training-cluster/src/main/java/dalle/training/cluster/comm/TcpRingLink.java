package dalle.training.cluster.comm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A rank's two ring sockets: floats out to the successor, written by a sender thread of this link, and
 * floats in from the predecessor, read and reduced on the caller's thread, so that the two directions
 * (and their kernel work) run at once. Both sockets are non-blocking, each with its own selector, so
 * that every wait is bounded.
 *
 * <p><b>Pipelining.</b> A {@link #chain} (a whole reduce-scatter, all-gather or all-reduce) is one
 * stream of messages each way: the sender forwards step k's floats as soon as the receiver has reduced
 * them in step k − 1 (in pieces of at least {@value #GRANULE_FLOATS} floats), so no rank waits for a
 * whole step of its neighbours.
 *
 * <p><b>Wire.</b> Each message is a 4-byte length (floats) then the floats, little-endian whatever the
 * host's order ({@link TcpCollectives#WIRE_ORDER}), through 1 MiB direct buffers; received floats are
 * reduced as they land, added straight from the buffer into the array (a copy into a scratch array
 * first made the 256 MiB all-reduce about 5 % slower).
 *
 * <p><b>Peer timeout.</b> When neither direction makes progress for {@link TcpSettings#peerTimeout()},
 * the collective fails with a {@link CollectiveException} naming the peer (rank and address): the
 * successor when a send is stuck (a live rank always reads what arrives), else the silent predecessor
 * (a frozen process, a dead host).
 */
final class TcpRingLink implements RingLink {

    /** Bytes per direct buffer. */
    static final int PIECE_BYTES = 1 << 20;
    /** Smallest forwarded piece of a chained send (512 KiB), unless the message's rest is shorter. */
    static final int GRANULE_FLOATS = 1 << 17;
    /** Longest park of a sender waiting for floats to forward before it looks at the clock again. */
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final SocketChannel out;
    private final SocketChannel in;
    private final Selector outSelector;
    private final Selector inSelector;
    private final SelectionKey outKey;
    private final SelectionKey inKey;
    private final long timeoutNanos;
    private final String who;
    private final String next;
    private final String prev;
    private final ExecutorService sender;
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(PIECE_BYTES).order(TcpCollectives.WIRE_ORDER);

    // shared by the two directions of the operation in progress
    private volatile long lastProgress;
    private volatile boolean writeStuck;   // the sender has bytes the successor does not take
    private volatile boolean aborted;      // one direction failed: the other stops
    private volatile Thread senderThread;

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
        this.outSelector = Selector.open();
        this.inSelector = Selector.open();
        this.outKey = out.register(outSelector, 0);
        this.inKey = in.register(inSelector, 0);
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "collectives-send");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void exchange(float[] send, int sendOff, int sendLen, float[] recv, int recvOff, int recvLen,
                         boolean accumulate) {
        run(new Outgoing(new float[][] {send}, new int[] {sendOff}, new int[] {sendLen}, null),
                new Incoming(new float[][] {recv}, new int[] {recvOff}, new int[] {recvLen}, new boolean[] {accumulate}));
    }

    @Override
    public void chain(float[] data, List<RingStep> steps) {
        int n = steps.size();
        float[][] arrays = new float[n][];
        int[] sendOff = new int[n];
        int[] sendLen = new int[n];
        int[] recvOff = new int[n];
        int[] recvLen = new int[n];
        boolean[] accumulate = new boolean[n];
        for (int k = 0; k < n; k++) {
            RingStep s = steps.get(k);
            arrays[k] = data;
            sendOff[k] = s.sendOff();
            sendLen[k] = s.sendLen();
            recvOff[k] = s.recvOff();
            recvLen[k] = s.recvLen();
            accumulate[k] = s.accumulate();
            if (k > 0 && (sendOff[k] != recvOff[k - 1] || sendLen[k] != recvLen[k - 1])) {
                throw new IllegalArgumentException("step " + k + " does not send what step " + (k - 1) + " received");
            }
        }
        Incoming i = new Incoming(arrays, recvOff, recvLen, accumulate);
        run(new Outgoing(arrays, sendOff, sendLen, i), i);
    }

    @Override
    public void send(float[] data, int off, int len) {
        run(new Outgoing(new float[][] {data}, new int[] {off}, new int[] {len}, null), null);
    }

    @Override
    public void receive(float[] data, int off, int len) {
        run(null, new Incoming(new float[][] {data}, new int[] {off}, new int[] {len}, new boolean[] {false}));
    }

    /** Sends on the sender thread while receiving on this one; the first failure of either is thrown. */
    private void run(Outgoing o, Incoming i) {
        lastProgress = System.nanoTime();
        writeStuck = false;
        aborted = false;
        Future<?> sent = o == null ? null : sender.submit(() -> {
            senderThread = Thread.currentThread();
            try {
                o.run();
            } catch (RuntimeException e) {
                aborted = true;
                inSelector.wakeup();
                throw e;
            }
            return null;
        });
        try {
            if (i != null) {
                i.run();
            }
            if (sent != null) {
                sent.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof CollectiveException ce ? ce
                    : new CollectiveException(who + ": sending to " + next + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(sent);
            throw new CollectiveException(who + ": interrupted in a collective", e);
        } catch (RuntimeException e) {
            abort(sent);
            CollectiveException sendFailure = failureOf(sent);
            throw sendFailure != null ? sendFailure : e;
        }
    }

    /** Stops the sender of a failed operation and waits for it, so the next operation starts clean. */
    private void abort(Future<?> sent) {
        aborted = true;
        if (sent == null) {
            return;
        }
        outSelector.wakeup();
        Thread t = senderThread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        try {
            sent.get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // its own failure, if any, is reported by failureOf; it may also have stopped for the abort
        }
    }

    /** The sender's failure when it failed first (the receiver then only saw the abort). */
    private static CollectiveException failureOf(Future<?> sent) {
        if (sent == null || !sent.isDone()) {
            return null;
        }
        try {
            sent.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof CollectiveException ce && !ce.getMessage().endsWith(ABORTED) ? ce : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static final String ABORTED = "stopped: the other direction failed";

    /** Throws the peer-timeout error when nothing moved either way for the timeout. */
    private void checkProgress(long now) {
        if (now - lastProgress >= timeoutNanos) {
            throw new CollectiveException(who + ": " + (writeStuck ? next + " has read nothing for "
                    : "no data from " + prev + " for ") + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                    + " ms (the peer timeout): it is frozen, overloaded or gone");
        }
    }

    /**
     * The messages being sent, in order: each a length, then its floats. With a source (a chain), message
     * k > 0 forwards what the source's message k − 1 received, and only as far as it has.
     */
    private final class Outgoing {
        private final float[][] data;
        private final int[] off;
        private final int[] len;
        private final Incoming source; // null: every float is ready
        private int k;
        private int queued = -1;       // floats of message k put into the buffer; -1 before its length

        Outgoing(float[][] data, int[] off, int[] len, Incoming source) {
            this.data = data;
            this.off = off;
            this.len = len;
            this.source = source;
        }

        void run() {
            ByteBuffer b = sendBuffer;
            b.clear().limit(0);
            try {
                while (true) {
                    if (aborted) {
                        throw new CollectiveException(who + ": " + ABORTED);
                    }
                    if (!b.hasRemaining()) {
                        if (k == len.length) {
                            return;
                        }
                        if (!refillable()) {
                            checkProgress(System.nanoTime());
                            LockSupport.parkNanos(this, PARK_NANOS); // the receiver unparks us when it reduces
                            continue;
                        }
                        refill(b);
                    }
                    if (out.write(b) > 0) {
                        lastProgress = System.nanoTime();
                        writeStuck = false;
                        continue;
                    }
                    writeStuck = true;
                    long now = System.nanoTime();
                    checkProgress(now);
                    outKey.interestOps(SelectionKey.OP_WRITE);
                    outSelector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(lastProgress + timeoutNanos - now)));
                    outSelector.selectedKeys().clear();
                }
            } catch (IOException e) {
                throw new CollectiveException(who + ": lost the connection to " + next + " while sending: "
                        + e.getMessage(), e);
            } finally {
                writeStuck = false;
            }
        }

        /** Floats of message k that may be sent now. */
        private int ready() {
            if (source == null || k == 0) {
                return len[k];
            }
            long p = source.progress;
            int m = (int) (p >>> 32);
            return m > k - 1 ? len[k] : m == k - 1 ? Math.min(len[k], (int) p) : 0;
        }

        private boolean refillable() {
            if (k == len.length) {
                return false;
            }
            if (queued < 0) {
                return true; // the length can always go
            }
            int ready = ready() - queued;
            return ready >= GRANULE_FLOATS || (ready > 0 && queued + ready == len[k]);
        }

        /** Packs lengths and ready floats into the empty buffer, message after message, as far as ready. */
        private void refill(ByteBuffer b) {
            b.clear();
            while (k < len.length) {
                if (queued < 0) {
                    if (b.remaining() < Integer.BYTES) {
                        break;
                    }
                    b.putInt(len[k]);
                    queued = 0;
                }
                int n = Math.min(ready() - queued, b.remaining() / Float.BYTES);
                if (n > 0) {
                    b.asFloatBuffer().put(data[k], off[k] + queued, n);
                    b.position(b.position() + n * Float.BYTES);
                    queued += n;
                }
                if (queued < len[k]) {
                    break; // the buffer is full, or the rest has not arrived yet
                }
                k++;
                queued = -1;
            }
            b.flip();
        }
    }

    /** The messages being received, in order: each length checked, its floats reduced or copied as they land. */
    private final class Incoming {
        private final float[][] data;
        private final int[] off;
        private final int[] len;
        private final boolean[] accumulate;
        private long bytesLeft;      // of every message still to come, lengths included
        private int k;
        private int got = -1;        // floats of message k taken; -1 before its length
        /** (message << 32) | floats taken of it: what the sender may forward. */
        volatile long progress;

        Incoming(float[][] data, int[] off, int[] len, boolean[] accumulate) {
            this.data = data;
            this.off = off;
            this.len = len;
            this.accumulate = accumulate;
            for (int l : len) {
                bytesLeft += Integer.BYTES + (long) l * Float.BYTES;
            }
        }

        void run() {
            ByteBuffer b = receiveBuffer;
            b.clear();
            limit(b);
            try {
                while (k < len.length) {
                    if (aborted) {
                        throw new CollectiveException(who + ": " + ABORTED);
                    }
                    int n = in.read(b);
                    if (n < 0) {
                        throw new IOException("connection closed by the peer");
                    }
                    if (n > 0) {
                        lastProgress = System.nanoTime();
                        bytesLeft -= n;
                        take(b);
                        continue;
                    }
                    long now = System.nanoTime();
                    checkProgress(now);
                    inKey.interestOps(SelectionKey.OP_READ);
                    inSelector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(lastProgress + timeoutNanos - now)));
                    inSelector.selectedKeys().clear();
                    if (Thread.currentThread().isInterrupted()) {
                        throw new CollectiveException(who + ": interrupted in a collective");
                    }
                }
            } catch (IOException e) {
                throw new CollectiveException(who + ": lost the connection to " + prev + " while receiving: "
                        + e.getMessage(), e);
            }
        }

        /** Takes every whole length and float in the buffer, then publishes the progress. */
        private void take(ByteBuffer b) {
            b.flip();
            while (k < len.length) {
                if (got < 0) {
                    if (b.remaining() < Integer.BYTES) {
                        break;
                    }
                    int length = b.getInt();
                    if (length != len[k]) {
                        throw new CollectiveException(who + ": expected " + len[k] + " floats from " + prev + ", got "
                                + length + " (do the ranks call the same collectives in the same order?)");
                    }
                    got = 0;
                }
                int floats = Math.min(b.remaining() / Float.BYTES, len[k] - got);
                if (floats > 0) {
                    reduce(b, floats);
                }
                if (got < len[k]) {
                    break;
                }
                k++;
                got = -1;
            }
            b.compact();
            limit(b);
            progress = ((long) k << 32) | Math.max(got, 0);
            Thread t = senderThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }

        private void limit(ByteBuffer b) {
            b.limit((int) Math.min(b.capacity(), b.position() + bytesLeft));
        }

        private void reduce(ByteBuffer b, int floats) {
            FloatBuffer f = b.asFloatBuffer();
            float[] d = data[k];
            int at = off[k] + got;
            if (accumulate[k]) {
                for (int j = 0; j < floats; j++) {
                    d[at + j] = f.get(j) + d[at + j];
                }
            } else {
                f.get(d, at, floats);
            }
            b.position(b.position() + floats * Float.BYTES);
            got += floats;
        }
    }

    @Override
    public void close() {
        aborted = true;
        sender.shutdownNow();
        TcpCollectives.closeQuietly(outSelector);
        TcpCollectives.closeQuietly(inSelector);
        TcpCollectives.closeQuietly(out);
        TcpCollectives.closeQuietly(in);
    }
}
