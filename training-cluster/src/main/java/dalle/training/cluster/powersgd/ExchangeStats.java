package dalle.training.cluster.powersgd;

/**
 * What one gradient exchange sent, per worker, counted as fp32 payload bytes handed to the
 * all-reduce (the wire traffic of a ring all-reduce is 2(W−1)/W times this for both the compressed
 * and the dense exchange, so the ratio is the same).
 *
 * @param sentBytes  bytes this worker all-reduced
 * @param denseBytes bytes an uncompressed exchange of the same gradients all-reduces
 * @param finite     whether the averaged result was finite everywhere; when false the caller skips
 *                   the update and PowerSGD kept its error buffers and Q unchanged
 */
public record ExchangeStats(long sentBytes, long denseBytes, boolean finite) {

    /** {@code denseBytes / sentBytes}: how many times fewer bytes were sent. */
    public double compression() {
        return (double) denseBytes / sentBytes;
    }
}
