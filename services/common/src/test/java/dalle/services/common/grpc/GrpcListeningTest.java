package dalle.services.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GrpcListeningTest {

    @Test
    void downWhileNothingListensOnTheGrpcPortThenUpOnceItDoes() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        System.setProperty("quarkus.grpc.server.port", Integer.toString(port));
        try {
            Optional<String> problem = GrpcListening.problem();
            assertTrue(problem.isPresent(), "nothing listens on " + port);
            assertTrue(problem.get().contains("127.0.0.1:" + port) && problem.get().contains("see the log"),
                    problem.get());
            try (ServerSocket server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertEquals(Optional.empty(), GrpcListening.problem());
            }
            assertEquals(Optional.empty(), GrpcListening.problem(), "once seen listening, no more connections");
        } finally {
            System.clearProperty("quarkus.grpc.server.port");
        }
    }
}
