package dalle.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The services {@code dalle up} starts: one process of the Quarkus services jar ({@code services/app}) per role,
 * and the system properties each gets. The property names live only here, so aligning them with the services
 * module is a change of this table.
 *
 * <p>Ports, from the base port B: role i (gateway 0, tokenizer 1, sampler 2, decoder 3, reranker 4) serves HTTP
 * (health, metrics; the gateway's JSON API and web page) on B + i and gRPC on B + 10 + i.
 */
final class ServiceRoles {

    /** The roles the process takes on (one per process here). */
    static final String ROLES_PROPERTY = "dalle.roles";
    /** The HTTP port. */
    static final String HTTP_PORT_PROPERTY = "quarkus.http.port";
    /** The gRPC port. */
    static final String GRPC_PORT_PROPERTY = "quarkus.grpc.server.port";
    /** Kafka bootstrap servers. */
    static final String KAFKA_PROPERTY = "kafka.bootstrap.servers";
    /** The model bundle folder. */
    static final String MODEL_PROPERTY = "dalle.model";
    /** The checkout / installation (the services resolve models/tiny under it). */
    static final String HOME_PROPERTY = "dalle.home";
    /** The gateway's Kafka Streams state folder (fan-in and status view). */
    static final String GATEWAY_STATE_PROPERTY = "dalle.gateway.state-dir";
    /** A process's stable identity in the stage consumer groups (static membership: quick restarts). */
    static final String KAFKA_INSTANCE_PROPERTY = "dalle.kafka.instance-id";
    /** The gateway's stable identity in the Streams groups (static membership: quick restarts). */
    static final String GATEWAY_INSTANCE_PROPERTY = "dalle.gateway.instance-id";
    /** The readiness endpoint (SmallRye Health). */
    static final String READY_PATH = "/q/health/ready";
    /** Per upstream role, the gateway's property holding that role's gRPC address ({@code host:port}). */
    static final Map<String, String> GATEWAY_UPSTREAM_PROPERTIES = upstreams();
    /** Roles in start order, each with its port offset; the gateway (offset 0) last. */
    static final Map<String, Integer> ROLES = roles();
    /** Ports used above the base port. */
    static final int PORT_SPAN = 15;

    private ServiceRoles() {
    }

    private static Map<String, String> upstreams() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tokenizer", "dalle.gateway.tokenizer-address");
        m.put("sampler", "dalle.gateway.sampler-address");
        m.put("decoder", "dalle.gateway.decoder-address");
        m.put("reranker", "dalle.gateway.reranker-address");
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Map<String, Integer> roles() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("tokenizer", 1);
        m.put("sampler", 2);
        m.put("decoder", 3);
        m.put("reranker", 4);
        m.put("gateway", 0);
        return java.util.Collections.unmodifiableMap(m);
    }

    static int httpPort(int basePort, String role) {
        return basePort + ROLES.get(role);
    }

    static int grpcPort(int basePort, String role) {
        return basePort + 10 + ROLES.get(role);
    }

    /**
     * The five service processes.
     *
     * @param java the java executable
     * @param jvmOptions options before {@code -jar}, e.g. heap size
     * @param jar the services' {@code quarkus-run.jar}
     * @param model the model bundle folder
     * @param bootstrap Kafka bootstrap servers
     * @param basePort the first port (see the class comment)
     * @param logDir where each service's {@code <role>.log} goes
     * @param home the checkout ({@code dalle.home})
     * @param gatewayState the gateway's Kafka Streams state folder
     */
    static List<ServiceSpec> specs(Path java, List<String> jvmOptions, Path jar, Path model, String bootstrap,
            int basePort, Path logDir, Path home, Path gatewayState) {
        if (basePort < 1024 || basePort + PORT_SPAN > 65535) {
            throw new IllegalArgumentException("--base-port " + basePort + " is outside 1024.." + (65535 - PORT_SPAN));
        }
        List<ServiceSpec> specs = new ArrayList<>();
        for (String role : ROLES.keySet()) {
            int http = httpPort(basePort, role);
            int grpc = grpcPort(basePort, role);
            List<String> cmd = new ArrayList<>();
            cmd.add(java.toString());
            cmd.addAll(jvmOptions);
            cmd.add(property(ROLES_PROPERTY, role));
            cmd.add(property(HTTP_PORT_PROPERTY, Integer.toString(http)));
            cmd.add(property(GRPC_PORT_PROPERTY, Integer.toString(grpc)));
            cmd.add(property(KAFKA_PROPERTY, bootstrap));
            cmd.add(property(MODEL_PROPERTY, model.toAbsolutePath().toString()));
            cmd.add(property(HOME_PROPERTY, home.toAbsolutePath().normalize().toString()));
            if (!role.equals("gateway")) {
                cmd.add(property(KAFKA_INSTANCE_PROPERTY, "dalle-up-" + role + "-" + grpc));
            }
            if (role.equals("gateway")) {
                cmd.add(property(GATEWAY_STATE_PROPERTY, gatewayState.toAbsolutePath().toString()));
                cmd.add(property(GATEWAY_INSTANCE_PROPERTY, "dalle-up-gateway-" + grpc));
                GATEWAY_UPSTREAM_PROPERTIES.forEach((upstream, prop) ->
                        cmd.add(property(prop, "localhost:" + grpcPort(basePort, upstream))));
            }
            cmd.add("-jar");
            cmd.add(jar.toAbsolutePath().toString());
            specs.add(new ServiceSpec(role, cmd, URI.create("http://localhost:" + http + READY_PATH),
                    logDir.resolve(role + ".log"), Map.of("http", "http://localhost:" + http,
                    "grpc", "localhost:" + grpc)));
        }
        return specs;
    }

    private static String property(String key, String value) {
        return "-D" + key + "=" + value;
    }
}
