package dalle.services.common.grpc;

import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.StageException;
import dalle.v1.ErrorCode;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The error mapping of DESIGN §4: a bad field is INVALID_ARGUMENT with a message naming it, overload
 * RESOURCE_EXHAUSTED, a stage down UNAVAILABLE, a passed deadline DEADLINE_EXCEEDED; anything unexpected INTERNAL.
 */
public final class GrpcErrors {

    private GrpcErrors() {
    }

    /** The status of a failure, unwrapping futures' wrappers. */
    public static StatusRuntimeException toStatus(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StatusRuntimeException s) {
            return connectionLost(s.getStatus()) ? Status.UNAVAILABLE.withDescription("the connection to a stage "
                    + "closed during the call (" + s.getStatus().getDescription() + "); retry")
                    .withCause(s).asRuntimeException(s.getTrailers()) : s;
        }
        if (t instanceof StatusException s) {
            return s.getStatus().withDescription(s.getMessage()).asRuntimeException(s.getTrailers());
        }
        if (t instanceof FieldException f) {
            return Status.INVALID_ARGUMENT.withDescription(f.getMessage()).asRuntimeException();
        }
        if (t instanceof StageException s) {
            return status(s.code()).withDescription(s.getMessage()).withCause(s).asRuntimeException();
        }
        return Status.INTERNAL.withDescription(t.getClass().getSimpleName() + ": " + t.getMessage()).withCause(t)
                .asRuntimeException();
    }

    /**
     * Whether a call's status is grpc-java's report of a connection that closed under it: UNKNOWN caused by a
     * {@link ClosedChannelException} (a stage killed mid-call, while the request was being written). For the caller
     * that is a stage gone away, UNAVAILABLE, like the "Network closed" and "io exception" forms of the same event.
     */
    static boolean connectionLost(Status status) {
        if (status.getCode() != Status.Code.UNKNOWN) {
            return false;
        }
        for (Throwable c = status.getCause(); c != null; c = c.getCause()) {
            if (c instanceof ClosedChannelException) {
                return true;
            }
        }
        return false;
    }

    /** The gRPC status of an error code. */
    public static Status status(ErrorCode code) {
        return switch (code) {
            case ERROR_CODE_INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case ERROR_CODE_RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case ERROR_CODE_UNAVAILABLE -> Status.UNAVAILABLE;
            case ERROR_CODE_DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case ERROR_CODE_FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            default -> Status.INTERNAL;
        };
    }

    /** The error code of a gRPC status (for Kafka failures and job views). */
    public static ErrorCode code(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT -> ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
            case RESOURCE_EXHAUSTED -> ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> ErrorCode.ERROR_CODE_UNAVAILABLE;
            case DEADLINE_EXCEEDED, CANCELLED -> ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED;
            case FAILED_PRECONDITION -> ErrorCode.ERROR_CODE_FAILED_PRECONDITION;
            default -> ErrorCode.ERROR_CODE_INTERNAL;
        };
    }
}
