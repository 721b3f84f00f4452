package dalle.services.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

/** A stage call's own status passes through, except a connection closed under it, which is UNAVAILABLE. */
class GrpcErrorsTest {

    @Test
    void aConnectionClosedDuringAStageCallIsUnavailable() {
        // what grpc-java's Netty transport reports when the peer's channel closed while the call was written
        StatusRuntimeException closed = Status.UNKNOWN.withDescription("channel closed")
                .withCause(new ClosedChannelException()).asRuntimeException();
        StatusRuntimeException mapped = GrpcErrors.toStatus(closed);
        assertEquals(Status.Code.UNAVAILABLE, mapped.getStatus().getCode());
        assertTrue(mapped.getStatus().getDescription().contains("channel closed"), mapped.getMessage());
    }

    @Test
    void otherStatusesPassThroughUnchanged() {
        for (StatusRuntimeException s : new StatusRuntimeException[] {
                Status.UNKNOWN.withDescription("a stage's own failure").asRuntimeException(),
                Status.UNKNOWN.withCause(new IOException("not a closed channel")).asRuntimeException(),
                Status.INVALID_ARGUMENT.withDescription("caption: empty").asRuntimeException(),
                Status.UNAVAILABLE.withDescription("io exception").asRuntimeException()}) {
            assertSame(s, GrpcErrors.toStatus(s));
        }
    }
}
