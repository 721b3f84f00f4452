package dalle.services.common.grpc;

import io.quarkus.runtime.LaunchMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * Whether this service's own gRPC server accepts connections, for its readiness check. Quarkus' separate gRPC server
 * can fail to start while the HTTP server runs (a TLS trust store it cannot read, a port taken): the process then
 * logs the reason and lives on, and its HTTP readiness alone would say UP while no gRPC call can reach it. Checked
 * by a TCP connection to the configured port (the test port under tests) until it succeeds once; a server that
 * listened keeps listening until shutdown, so later checks cost nothing.
 */
public final class GrpcListening {

    private static volatile boolean seen;

    private GrpcListening() {
    }

    /** Empty while the server listens; else what is wrong, with the address tried. */
    public static Optional<String> problem() {
        if (seen) {
            return Optional.empty();
        }
        Config config = ConfigProvider.getConfig();
        boolean test = LaunchMode.current() == LaunchMode.TEST;
        int port = test ? config.getOptionalValue("quarkus.grpc.server.test-port", Integer.class).orElse(9001)
                : config.getOptionalValue("quarkus.grpc.server.port", Integer.class).orElse(9000);
        String host = config.getOptionalValue("quarkus.grpc.server.host", String.class).orElse("0.0.0.0");
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            seen = true;
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("the gRPC server is not listening on " + host + ":" + port + " (" + e.getMessage()
                    + "); its start failed, see the log");
        }
    }

    /** {@code check} with the gRPC server's state added: DOWN while it does not listen, whatever else is ready. */
    public static HealthCheckResponseBuilder and(HealthCheckResponseBuilder check, boolean up) {
        Optional<String> problem = problem();
        return check.status(up && problem.isEmpty()).withData("grpc", problem.orElse("listening"));
    }
}
