package dalle.training.cluster.comm;

/**
 * The transport under {@link RingCollectives}: this rank's connection to its successor (sends) and
 * from its predecessor (receives) in a group's ring. Messages carry float32 data; both ends know the
 * length, and a receiver that gets a different length reports a mismatch naming the peer.
 */
interface RingLink extends AutoCloseable {

    /**
     * Sends {@code send[sendOff, sendOff+sendLen)} to the successor while receiving {@code recvLen}
     * floats from the predecessor into {@code recv[recvOff, …)}: added element-wise
     * ({@code recv[i] = incoming[i] + recv[i]}) when {@code accumulate}, copied otherwise. The two
     * directions run concurrently, so a full ring of exchanges cannot deadlock.
     */
    void exchange(float[] send, int sendOff, int sendLen, float[] recv, int recvOff, int recvLen, boolean accumulate);

    /**
     * Runs a chained ring schedule on {@code data}: step k as {@link #exchange}, where every step after the
     * first sends exactly the region the step before it received (its chunk, once reduced). A transport may
     * therefore start sending step k+1's floats as soon as step k has received and reduced them, instead of
     * waiting for the whole step: the result is the same, element for element. By default the steps run one
     * after the other.
     */
    default void chain(float[] data, java.util.List<RingStep> steps) {
        for (RingStep s : steps) {
            exchange(data, s.sendOff(), s.sendLen(), data, s.recvOff(), s.recvLen(), s.accumulate());
        }
    }

    /** Sends to the successor; may block until the successor receives (use only in acyclic patterns). */
    void send(float[] data, int off, int len);

    /** Receives {@code len} floats from the predecessor into {@code data[off, …)}, copied. */
    void receive(float[] data, int off, int len);

    @Override
    void close();
}
