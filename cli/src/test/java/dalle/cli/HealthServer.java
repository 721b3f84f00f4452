package dalle.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny service for the supervisor tests, run as its own process: serves {@code /q/health/ready} on the given
 * port, 503 for the first {@code readyAfterMs} then 200; logs to stdout like a service would. With
 * {@code exitCode >= 0} it exits with that code right after its first log line, as a service that cannot start.
 *
 * <p>{@code java -cp <test classes> dalle.cli.HealthServer PORT READY_AFTER_MS [EXIT_CODE]}
 */
public final class HealthServer {

    private HealthServer() {
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        long readyAt = System.currentTimeMillis() + Long.parseLong(args[1]);
        int exitCode = args.length > 2 ? Integer.parseInt(args[2]) : -1;
        System.out.println("health server: loading the model for port " + port);
        if (exitCode >= 0) {
            System.out.println("health server: cannot load the model, giving up");
            System.exit(exitCode);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 8);
        server.createContext("/q/health/ready", exchange -> {
            int code = System.currentTimeMillis() >= readyAt ? 200 : 503;
            byte[] body = (code == 200 ? "{\"status\":\"UP\"}" : "{\"status\":\"DOWN\"}").getBytes();
            exchange.sendResponseHeaders(code, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        System.out.println("health server: listening on " + port);
    }

    /** The command line that runs this server in a new JVM. */
    static List<String> command(int port, long readyAfterMs, int exitCode) {
        Path classes;
        try {
            classes = Path.of(HealthServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:TieredStopAtLevel=1", "-cp", classes.toString(), HealthServer.class.getName(),
                Integer.toString(port), Long.toString(readyAfterMs)));
        if (exitCode >= 0) {
            cmd.add(Integer.toString(exitCode));
        }
        return cmd;
    }
}
