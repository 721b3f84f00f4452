package dalle.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The five services {@code dalle up} starts, each its own Quarkus application
 * ({@code services/<name>/target/quarkus-app/quarkus-run.jar} of the checkout), and the system properties each
 * gets. The property names live only here, so aligning them with the services is a change of this table.
 *
 * <p>Ports, from the base port B: service i (gateway 0, tokenizer 1, sampler 2, decoder 3, reranker 4) serves HTTP
 * (the gateway's JSON API and web page) on B + i, its management interface (health, metrics) on B + 5 + i and gRPC
 * on B + 10 + i.
 */
final class Services {

    /** The HTTP port. */
    static final String HTTP_PORT_PROPERTY = "quarkus.http.port";
    /** The management interface's port: health ({@link #READY_PATH}) and metrics ({@code /q/metrics}). */
    static final String MANAGEMENT_PORT_PROPERTY = "quarkus.management.port";
    /** The gRPC port. */
    static final String GRPC_PORT_PROPERTY = "quarkus.grpc.server.port";
    /** Kafka bootstrap servers. */
    static final String KAFKA_PROPERTY = "kafka.bootstrap.servers";
    /** A stage's model bundle folder (the gateway holds no model). */
    static final String MODEL_PROPERTY = "dalle.model";
    /** A stage's stable identity in its consumer group (static membership: quick restarts). */
    static final String KAFKA_INSTANCE_PROPERTY = "dalle.kafka.instance-id";
    /** The gateway's keys file (hashed API keys). */
    static final String API_KEYS_PROPERTY = "dalle.auth.api-keys-file";
    /** The gateway's gRPC address as other gateway replicas reach it. */
    static final String GATEWAY_ADVERTISED_PROPERTY = "dalle.gateway.advertised-address";
    /** The gateway's Kafka Streams state folder (fan-in and status view). */
    static final String GATEWAY_STATE_PROPERTY = "dalle.gateway.state-dir";
    /** The gateway's stable identity in the Streams groups (static membership: quick restarts). */
    static final String GATEWAY_INSTANCE_PROPERTY = "dalle.gateway.instance-id";
    /** The decoder's reranker (DecodeAndScore, the gateway's synchronous path). */
    static final String DECODER_RERANKER_PROPERTY = "dalle.reranker.address";
    /** The readiness endpoint (SmallRye Health). */
    static final String READY_PATH = "/q/health/ready";
    /** Per stage, the gateway's property holding that stage's gRPC target. */
    static final Map<String, String> GATEWAY_UPSTREAM_PROPERTIES = upstreams();
    /** Services in start order, each with its port offset; the gateway (offset 0) last. */
    static final Map<String, Integer> SERVICES = services();
    /** Ports used above the base port. */
    static final int PORT_SPAN = 15;

    private Services() {
    }

    private static Map<String, String> upstreams() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tokenizer", "dalle.gateway.tokenizer-address");
        m.put("sampler", "dalle.gateway.sampler-address");
        m.put("decoder", "dalle.gateway.decoder-address");
        m.put("reranker", "dalle.gateway.reranker-address");
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Map<String, Integer> services() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("tokenizer", 1);
        m.put("sampler", 2);
        m.put("decoder", 3);
        m.put("reranker", 4);
        m.put("gateway", 0);
        return java.util.Collections.unmodifiableMap(m);
    }

    static int httpPort(int basePort, String service) {
        return basePort + SERVICES.get(service);
    }

    static int managementPort(int basePort, String service) {
        return basePort + 5 + SERVICES.get(service);
    }

    static int grpcPort(int basePort, String service) {
        return basePort + 10 + SERVICES.get(service);
    }

    /** A service's {@code quarkus-run.jar} under the services folder of a checkout ({@code services/}). */
    static Path jar(Path servicesDir, String service) {
        return servicesDir.resolve(service).resolve("target").resolve("quarkus-app").resolve("quarkus-run.jar");
    }

    /**
     * The five service processes.
     *
     * @param java the java executable
     * @param jvmOptions options before {@code -jar} of every service, e.g. heap size
     * @param serviceOptions more options of some services, by name (e.g. one service's own {@code -Dkey=value})
     * @param servicesDir the checkout's {@code services/} (each service's jar under it, see {@link #jar})
     * @param model the model bundle folder, for the four stages
     * @param bootstrap Kafka bootstrap servers
     * @param basePort the first port (see the class comment)
     * @param logDir where each service's {@code <name>.log} goes
     * @param gatewayState the gateway's Kafka Streams state folder
     */
    static List<ServiceSpec> specs(Path java, List<String> jvmOptions, Map<String, List<String>> serviceOptions,
            Path servicesDir, Path model, String bootstrap, int basePort, Path logDir, Path gatewayState) {
        for (String name : serviceOptions.keySet()) {
            if (!SERVICES.containsKey(name)) {
                throw new IllegalArgumentException("no service '" + name + "'; the services are " + SERVICES.keySet());
            }
        }
        if (basePort < 1024 || basePort + PORT_SPAN > 65535) {
            throw new IllegalArgumentException("--base-port " + basePort + " is outside 1024.." + (65535 - PORT_SPAN));
        }
        List<ServiceSpec> specs = new ArrayList<>();
        for (String service : SERVICES.keySet()) {
            int http = httpPort(basePort, service);
            int grpc = grpcPort(basePort, service);
            int management = managementPort(basePort, service);
            List<String> cmd = new ArrayList<>();
            cmd.add(java.toString());
            cmd.addAll(jvmOptions);
            cmd.addAll(serviceOptions.getOrDefault(service, List.of()));
            cmd.add(property(HTTP_PORT_PROPERTY, Integer.toString(http)));
            cmd.add(property(GRPC_PORT_PROPERTY, Integer.toString(grpc)));
            cmd.add(property(MANAGEMENT_PORT_PROPERTY, Integer.toString(management)));
            cmd.add(property(KAFKA_PROPERTY, bootstrap));
            if (service.equals("gateway")) {
                // the local key of the stack's data folder (created on first use): authentication stays on
                cmd.add(property(API_KEYS_PROPERTY, LocalKeys.keysFile(gatewayState.toAbsolutePath().getParent())
                        .toString()));
                cmd.add(property(GATEWAY_STATE_PROPERTY, gatewayState.toAbsolutePath().toString()));
                cmd.add(property(GATEWAY_INSTANCE_PROPERTY, "dalle-up-gateway-" + grpc));
                cmd.add(property(GATEWAY_ADVERTISED_PROPERTY, "127.0.0.1:" + grpc));
                GATEWAY_UPSTREAM_PROPERTIES.forEach((upstream, prop) ->
                        cmd.add(property(prop, "127.0.0.1:" + grpcPort(basePort, upstream))));
            } else {
                cmd.add(property(MODEL_PROPERTY, model.toAbsolutePath().toString()));
                cmd.add(property(KAFKA_INSTANCE_PROPERTY, "dalle-up-" + service + "-" + grpc));
                if (service.equals("decoder")) {
                    cmd.add(property(DECODER_RERANKER_PROPERTY, "127.0.0.1:" + grpcPort(basePort, "reranker")));
                }
            }
            cmd.add("-jar");
            cmd.add(jar(servicesDir, service).toAbsolutePath().toString());
            specs.add(new ServiceSpec(service, cmd, URI.create("http://localhost:" + management + READY_PATH),
                    logDir.resolve(service + ".log"), Map.of("http", "http://localhost:" + http,
                    "grpc", "localhost:" + grpc, "management", "http://localhost:" + management)));
        }
        return specs;
    }

    private static String property(String key, String value) {
        return "-D" + key + "=" + value;
    }
}
