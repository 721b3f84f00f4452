package dalle.services.gateway.fanin;

import com.google.protobuf.InvalidProtocolBufferException;
import dalle.core.pipeline.Ranking;
import dalle.v1.GenerationContext;
import dalle.v1.Image;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The fan-in's state of one request (the value of its store, key = request id): either pending (the request's
 * context, which candidate indices have arrived, and the best {@code top_k} so far with their images) or done
 * (the result is written; only when, so late duplicates can be recognised and the marker expired).
 *
 * <p>Only the current best {@code top_k} are kept: the ranking is a total order (score descending, then
 * candidate index ascending: {@link Ranking}, as on every path), so the best k of all candidates
 * is the best k of (best k so far + the new one), whatever the arrival order. A pending state therefore holds at
 * most top_k images plus one bit per candidate (512 candidates: 64 bytes), never all N images.
 *
 * @param context the request as the reranker carried it; null when done
 * @param seen the candidate indices counted so far; empty when done
 * @param best the best candidates so far, best first, at most {@code context.top_k}; empty when done
 * @param lastProgressMs when the last progress event was emitted, Unix epoch ms; 0 = never
 * @param doneAtMs when the result was written, Unix epoch ms; 0 while pending
 */
record FanInState(GenerationContext context, BitSet seen, List<Ranked> best, long lastProgressMs, long doneAtMs) {

    /** Best first, ties by lower candidate index: the one {@link Ranking} rule of every path. */
    static final Comparator<Ranked> RANKING = Ranking.bestFirst(Ranked::score, Ranked::index);

    private static final byte FORMAT = 1;

    /** One kept candidate. */
    record Ranked(int index, float score, Image image) {
    }

    FanInState {
        seen = (BitSet) seen.clone();
        best = List.copyOf(best);
    }

    /** A request with no candidate counted yet. */
    static FanInState pending(GenerationContext context) {
        return new FanInState(context, new BitSet(), List.of(), 0, 0);
    }

    /** The marker of a request whose result was written at {@code nowMs}. */
    static FanInState done(long nowMs) {
        return new FanInState(null, new BitSet(), List.of(), 0, nowMs);
    }

    boolean isDone() {
        return doneAtMs != 0;
    }

    /** Distinct candidates counted. */
    int count() {
        return seen.cardinality();
    }

    boolean hasSeen(int index) {
        return seen.get(index);
    }

    /** This state with candidate {@code index} counted and kept if it is among the best top_k. */
    FanInState with(int index, float score, Image image) {
        BitSet s = (BitSet) seen.clone();
        s.set(index);
        List<Ranked> b = new ArrayList<>(best);
        b.add(new Ranked(index, score, image));
        b.sort(RANKING);
        int k = context.getTopK();
        return new FanInState(context, s, b.size() > k ? b.subList(0, k) : b, lastProgressMs, doneAtMs);
    }

    FanInState withLastProgress(long ms) {
        return new FanInState(context, seen, best, ms, doneAtMs);
    }

    /** Bytes of the kept images: what makes a state (and the result it becomes) large. */
    long imageBytes() {
        long n = 0;
        for (Ranked r : best) {
            n += r.image().getSerializedSize();
        }
        return n;
    }

    /** The store's serde: a versioned binary layout (format byte, times, context, bit set, kept candidates). */
    static Serde<FanInState> serde() {
        return Serdes.serdeFrom((topic, state) -> state == null ? null : write(state),
                (topic, bytes) -> bytes == null ? null : read(bytes));
    }

    static byte[] write(FanInState s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(s.doneAtMs);
            out.writeLong(s.lastProgressMs);
            writeBytes(out, s.context == null ? new byte[0] : s.context.toByteArray());
            writeBytes(out, s.seen.toByteArray());
            out.writeInt(s.best.size());
            for (Ranked r : s.best) {
                out.writeInt(r.index());
                out.writeFloat(r.score());
                writeBytes(out, r.image().toByteArray());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static FanInState read(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new SerializationException("fan-in state format " + format + " is not " + FORMAT);
            }
            long doneAt = in.readLong();
            long lastProgress = in.readLong();
            byte[] ctx = readBytes(in);
            BitSet seen = BitSet.valueOf(readBytes(in));
            int n = in.readInt();
            List<Ranked> best = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int index = in.readInt();
                float score = in.readFloat();
                best.add(new Ranked(index, score, Image.parseFrom(readBytes(in))));
            }
            return new FanInState(doneAt != 0 ? null : GenerationContext.parseFrom(ctx), seen, best, lastProgress,
                    doneAt);
        } catch (InvalidProtocolBufferException e) {
            throw new SerializationException("fan-in state holds an unreadable message", e);
        } catch (IOException e) {
            throw new SerializationException("fan-in state of " + data.length + " bytes is truncated", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("length " + n + " exceeds the " + in.available() + " bytes left");
        }
        return in.readNBytes(n);
    }
}
