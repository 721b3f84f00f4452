package dalle.training.cluster.comm;

/**
 * One step of a ring schedule on one rank: send {@code data[sendOff, sendOff + sendLen)} to the
 * successor while receiving {@code recvLen} floats from the predecessor into {@code data[recvOff, …)},
 * added element-wise ({@code data[i] = incoming[i] + data[i]}) when {@code accumulate}, copied otherwise.
 */
record RingStep(int sendOff, int sendLen, int recvOff, int recvLen, boolean accumulate) {}
