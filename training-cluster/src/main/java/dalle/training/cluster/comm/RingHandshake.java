package dalle.training.cluster.comm;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;

/**
 * The opening of every ring connection: mutual proof of the {@link ClusterSecret} by HMAC-SHA256
 * challenge–response over a nonce from each end, then the connector's claim (its rank, the rank it
 * wants, the group) bound into the proof. The secret never goes on the wire; nonces make every
 * proof single-use; the two directions use different labels, so a proof cannot be reflected.
 * <pre>
 *   acceptor  → connector   "DRNG" · version · nonceA (32 B)
 *   connector → acceptor    "DRNG" · to · from · len · group · nonceC (32 B) ·
 *                           HMAC(secret, "dalle-ring/connect" · nonceA · nonceC · to · from · len · group)
 *   acceptor  → connector   status (1 = I am rank {@code to}, 0 = I am not) ·
 *                           HMAC(secret, "dalle-ring/accept" · nonceA · nonceC · to · from · len · group · status)
 * </pre>
 * The acceptor checks the connector's MAC in constant time and drops the connection, without a reply,
 * when it is wrong, malformed or late; the connector likewise refuses an acceptor that cannot prove the
 * secret. Integers are big-endian. After the handshake the connection carries ring data.
 */
final class RingHandshake {

    static final int MAGIC = 0x44524e47; // "DRNG"
    static final int VERSION = 2;
    static final int NONCE_BYTES = 32;
    static final int MAC_BYTES = 32;
    static final int MAX_GROUP_BYTES = 4096;
    private static final byte[] CONNECT = "dalle-ring/connect".getBytes(StandardCharsets.UTF_8);
    private static final byte[] ACCEPT = "dalle-ring/accept".getBytes(StandardCharsets.UTF_8);

    private RingHandshake() {}

    /** The connector's proven claim. */
    record Claim(int to, int from, String group) {}

    /** The acceptor dropped a connection; {@link #getMessage()} says why (for the log, never for the peer). */
    static final class Refused extends Exception {
        Refused(String reason) {
            super(reason);
        }
    }

    /**
     * Acceptor side, on a freshly accepted connection. Replies with whether this end is {@code myRank}.
     *
     * @return the connector's claim once its proof checks out
     * @throws Refused when the connection is not a ring handshake, fails the proof, or misses the deadline
     */
    static Claim accept(SelectionKey key, ClusterSecret secret, int myRank, long deadline) throws Refused {
        try {
            byte[] nonceA = ClusterSecret.nonce();
            ChannelIo.writeFully(key, ByteBuffer.allocate(8 + NONCE_BYTES).putInt(MAGIC).putInt(VERSION).put(nonceA)
                    .flip(), deadline);
            ByteBuffer head = ByteBuffer.allocate(16);
            ChannelIo.readFully(key, head, deadline);
            head.flip();
            if (head.getInt() != MAGIC) {
                throw new Refused("not a ring handshake (wrong magic number)");
            }
            int to = head.getInt();
            int from = head.getInt();
            int length = head.getInt();
            if (length < 0 || length > MAX_GROUP_BYTES) {
                throw new Refused("malformed handshake (group name of " + length + " bytes)");
            }
            ByteBuffer rest = ByteBuffer.allocate(length + NONCE_BYTES + MAC_BYTES);
            ChannelIo.readFully(key, rest, deadline);
            rest.flip();
            byte[] group = new byte[length];
            byte[] nonceC = new byte[NONCE_BYTES];
            byte[] mac = new byte[MAC_BYTES];
            rest.get(group).get(nonceC).get(mac);
            byte[] claim = claim(to, from, group);
            if (!ClusterSecret.same(mac, secret.mac(CONNECT, nonceA, nonceC, claim))) {
                throw new Refused("failed the cluster-secret proof (wrong or no secret)");
            }
            byte status = (byte) (to == myRank ? 1 : 0);
            ByteBuffer reply = ByteBuffer.allocate(1 + MAC_BYTES).put(status)
                    .put(secret.mac(ACCEPT, nonceA, nonceC, claim, new byte[] {status}));
            ChannelIo.writeFully(key, reply.flip(), deadline);
            if (status == 0) {
                throw new Refused("a proven peer (rank " + from + ") asked for rank " + to + " here: the address lists"
                        + " of the ranks differ");
            }
            return new Claim(to, from, new String(group, StandardCharsets.UTF_8));
        } catch (SocketTimeoutException e) {
            throw new Refused("no complete handshake within the handshake timeout");
        } catch (EOFException e) {
            throw new Refused("closed during the handshake");
        } catch (IOException e) {
            throw new Refused("handshake failed: " + e.getMessage());
        }
    }

    /** Why the connector could not open a ring connection; the message names the reason, the caller the peer. */
    static final class Failed extends Exception {
        Failed(String reason) {
            super(reason);
        }
    }

    /**
     * Connector side, on a connection just opened to the peer expected to be world rank {@code to}.
     *
     * @throws Failed when the peer is not a ring endpoint, refuses our proof, cannot prove the secret, is
     *                not rank {@code to}, or misses the deadline
     */
    static void connect(SelectionKey key, ClusterSecret secret, int to, int from, String groupName, long deadline)
            throws Failed {
        try {
            ByteBuffer hello = ByteBuffer.allocate(8 + NONCE_BYTES);
            ChannelIo.readFully(key, hello, deadline);
            hello.flip();
            if (hello.getInt() != MAGIC || hello.getInt() != VERSION) {
                throw new Failed("it is not a ring endpoint of this version");
            }
            byte[] nonceA = new byte[NONCE_BYTES];
            hello.get(nonceA);
            byte[] nonceC = ClusterSecret.nonce();
            byte[] group = groupName.getBytes(StandardCharsets.UTF_8);
            byte[] claim = claim(to, from, group);
            ByteBuffer out = ByteBuffer.allocate(16 + group.length + NONCE_BYTES + MAC_BYTES);
            out.putInt(MAGIC).putInt(to).putInt(from).putInt(group.length).put(group).put(nonceC)
                    .put(secret.mac(CONNECT, nonceA, nonceC, claim));
            ChannelIo.writeFully(key, out.flip(), deadline);
            ByteBuffer reply = ByteBuffer.allocate(1 + MAC_BYTES);
            try {
                ChannelIo.readFully(key, reply, deadline);
            } catch (EOFException e) {
                throw new Failed("it refused our proof of the cluster secret (does every rank have the same secret?)");
            }
            reply.flip();
            byte status = reply.get();
            byte[] mac = new byte[MAC_BYTES];
            reply.get(mac);
            if (!ClusterSecret.same(mac, secret.mac(ACCEPT, nonceA, nonceC, claim, new byte[] {status}))) {
                throw new Failed("it could not prove the cluster secret (another program on that address, or"
                        + " another job's secret)");
            }
            if (status != 1) {
                throw new Failed("it is a rank of this job, but not world rank " + to
                        + " (are the address lists the same on every rank?)");
            }
        } catch (SocketTimeoutException e) {
            throw new Failed("no complete handshake within the handshake timeout");
        } catch (IOException e) {
            throw new Failed("the handshake failed: " + e.getMessage());
        }
    }

    /** The connector's claim as bytes, bound into both proofs. */
    private static byte[] claim(int to, int from, byte[] group) {
        return ByteBuffer.allocate(12 + group.length).putInt(to).putInt(from).putInt(group.length).put(group).array();
    }
}
