package dalle.training.cluster.comm;

/** A collective could not complete: a peer is missing, disconnected, or out of step. The message names it. */
public final class CollectiveException extends RuntimeException {

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
