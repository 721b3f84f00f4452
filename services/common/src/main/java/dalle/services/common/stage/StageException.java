package dalle.services.common.stage;

import dalle.v1.ErrorCode;

/**
 * A request a stage cannot serve for a reason other than a bad field: overload, a passed deadline, another bundle
 * version, a role this process does not run. The code mirrors the gRPC status of the same name.
 */
public final class StageException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public StageException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public StageException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The class of failure. */
    public ErrorCode code() {
        return code;
    }

    /** RESOURCE_EXHAUSTED: a stage queue is full. */
    public static StageException overloaded(String what, int capacity) {
        return new StageException(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED,
                what + " queue is full (" + capacity + "); retry later");
    }

    /** DEADLINE_EXCEEDED: the request's deadline passed before the work started. */
    public static StageException deadline(String where) {
        return new StageException(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, "deadline passed " + where);
    }
}
