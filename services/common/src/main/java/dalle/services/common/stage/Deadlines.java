package dalle.services.common.stage;

import io.grpc.Deadline;
import java.util.concurrent.TimeUnit;

/** Conversions between gRPC deadlines (monotonic) and the Kafka payloads' absolute epoch-millisecond deadlines. */
public final class Deadlines {

    private Deadlines() {
    }

    /** Whether {@code deadline} (null = none) has passed. */
    public static boolean expired(Deadline deadline) {
        return deadline != null && deadline.isExpired();
    }

    /** The gRPC deadline of an absolute Unix epoch-millisecond deadline, evaluated now. */
    public static Deadline fromEpochMs(long deadlineMs) {
        return Deadline.after(deadlineMs - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
    }

    /** The absolute Unix epoch-millisecond time of {@code deadline}, evaluated now. */
    public static long toEpochMs(Deadline deadline) {
        return System.currentTimeMillis() + deadline.timeRemaining(TimeUnit.MILLISECONDS);
    }
}
