package dalle.services.common.grpc;

import io.grpc.stub.StreamObserver;

/** Completing unary calls from futures and from direct answers. */
public final class Replies {

    private Replies() {
    }

    /** Sends {@code value} and completes, or fails with the mapped status of {@code error}. */
    public static <T> void unary(StreamObserver<T> response, T value, Throwable error) {
        if (error != null) {
            response.onError(GrpcErrors.toStatus(error));
        } else {
            response.onNext(value);
            response.onCompleted();
        }
    }

    /** Sends what {@code answer} returns and completes, or fails with the mapped status of what it throws. */
    public static <T> void call(StreamObserver<T> response, java.util.function.Supplier<T> answer) {
        T value;
        try {
            value = answer.get();
        } catch (RuntimeException e) {
            response.onError(GrpcErrors.toStatus(e));
            return;
        }
        response.onNext(value);
        response.onCompleted();
    }
}
