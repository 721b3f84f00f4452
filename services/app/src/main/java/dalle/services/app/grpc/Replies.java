package dalle.services.app.grpc;

import io.grpc.stub.StreamObserver;

/** Completing unary calls from futures. */
final class Replies {

    private Replies() {
    }

    /** Sends {@code value} and completes, or fails with the mapped status of {@code error}. */
    static <T> void unary(StreamObserver<T> response, T value, Throwable error) {
        if (error != null) {
            response.onError(GrpcErrors.toStatus(error));
        } else {
            response.onNext(value);
            response.onCompleted();
        }
    }
}
