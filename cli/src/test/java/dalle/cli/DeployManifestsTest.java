package dalle.cli;

import static dalle.cli.DeployTree.at;
import static dalle.cli.DeployTree.container;
import static dalle.cli.DeployTree.env;
import static dalle.cli.DeployTree.envName;
import static dalle.cli.DeployTree.list;
import static dalle.cli.DeployTree.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.DeployTree.Doc;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests under {@code deploy/} agree with the code: the roles and property names of
 * {@link Services}, the Quarkus health endpoints, and the topic registry ({@link Topics}).
 */
class DeployManifestsTest {

    private static final Set<String> HEALTH_PATHS = Set.of("/q/health/live", "/q/health/ready", "/q/health/started");
    /** Each Kafka stage's input topic (DESIGN.md section 4). */
    private static final Map<String, TopicSpec<?>> INPUT_TOPICS = Map.of("tokenizer", Topics.GENERATION_REQUESTS,
            "sampler", Topics.TOKENIZED_REQUESTS, "decoder", Topics.IMAGE_CODES, "reranker", Topics.CANDIDATE_IMAGES);
    private static final Set<String> GPU_ROLES = Set.of("sampler", "decoder", "reranker");

    private final DeployTree tree = DeployTree.load();

    @Test
    void everyDocumentHasAKindAndEveryKustomizationNamesFilesThatExist() {
        assertTrue(tree.docs.size() > 30, "documents found: " + tree.docs.size());
        List<String> problems = new ArrayList<>();
        for (Doc d : tree.docs) {
            if (d.kind() == null) {
                problems.add(d.file() + ": a document without kind");
            }
        }
        for (Doc k : tree.all("Kustomization", "")) {
            var dir = tree.root.resolve(k.file()).getParent();
            List<String> refs = new ArrayList<>();
            Object resources = at(k.map(), "resources");
            if (resources != null) {
                ((List<?>) resources).forEach(r -> refs.add(r.toString()));
            }
            list(k.map(), "patches").forEach(p -> refs.add(String.valueOf(p.get("path"))));
            for (Map<String, Object> g : list(k.map(), "configMapGenerator")) {
                ((List<?>) g.get("files")).forEach(f -> refs.add(f.toString().replaceFirst("^[^=]*=", "")));
            }
            for (String ref : refs) {
                if (!Files.exists(dir.resolve(ref))) {
                    problems.add(k.file() + " names " + ref + ", which does not exist");
                }
            }
        }
        assertEquals(List.of(), problems);
        Set<String> kustomizations = tree.all("Kustomization", "").stream().map(Doc::file)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("base/kustomization.yaml", "kafka/kustomization.yaml",
                "keda/kustomization.yaml", "overlays/cpu/kustomization.yaml", "overlays/gpu/kustomization.yaml",
                "overlays/tls/kustomization.yaml", "training/kustomization.yaml", "monitoring/kustomization.yaml")),
                kustomizations);
    }

    @Test
    void eachRoleHasADeploymentNamedAfterItsRoleEnvWithAServiceOnTheConfiguredPorts() {
        List<Doc> deployments = tree.all("Deployment", "base/");
        assertEquals(Services.SERVICES.keySet(), deployments.stream().map(Doc::name).collect(Collectors.toSet()));
        Doc config = tree.find("ConfigMap", "base/", "dalle-config").orElseThrow();
        String httpPort = str(config.map(), "data", envName(Services.HTTP_PORT_PROPERTY));
        String grpcPort = str(config.map(), "data", envName(Services.GRPC_PORT_PROPERTY));
        String managementPort = str(config.map(), "data", envName(Services.MANAGEMENT_PORT_PROPERTY));
        assertNotNull(str(config.map(), "data", envName(Services.KAFKA_PROPERTY)), "kafka bootstrap in " + config);
        // the bundle is in a ConfigMap of its own that only the stages reference: envFrom would hand it to the gateway
        Doc model = tree.find("ConfigMap", "base/", "dalle-model").orElseThrow();
        assertNotNull(str(model.map(), "data", "path"), "model bundle in " + model);
        assertTrue(((Map<?, ?>) at(config.map(), "data")).keySet().stream().noneMatch(k -> k.toString().startsWith("DALLE_")),
                config + " goes to every service whole (envFrom): no dalle.* key of some services only");
        for (Doc d : deployments) {
            Map<String, Object> c = container(d);
            assertEquals("dalle-" + d.name(), c.get("image"), d + ": its own image (docker/" + d.name()
                    + ".Dockerfile), by its short name; the overlays set registry and tag");
            Map<String, Object> modelEnv = list(c, "env").stream()
                    .filter(e -> envName(Services.MODEL_PROPERTY).equals(e.get("name"))).findFirst().orElse(null);
            assertEquals(!d.name().equals("gateway"), modelEnv != null, d + ": the stages get the bundle, the gateway holds no model");
            if (modelEnv != null) {
                assertEquals(Map.of("name", "dalle-model", "key", "path"), at(modelEnv, "valueFrom", "configMapKeyRef"),
                        d + ": DALLE_MODEL from the dalle-model ConfigMap");
            }
            assertEquals(List.of(Map.of("configMapRef", Map.of("name", "dalle-config"))), list(c, "envFrom"), d.toString());
            Map<String, String> ports = list(c, "ports").stream()
                    .collect(Collectors.toMap(p -> (String) p.get("name"), p -> String.valueOf(p.get("containerPort"))));
            assertEquals(Map.of("http", httpPort, "grpc", grpcPort, "management", managementPort), ports,
                    d + ": container ports");
            assertEquals("/q/metrics", str(d.map(), "spec", "template", "metadata", "annotations",
                    "prometheus.io/path"), d + ": Prometheus scrape path");
            assertEquals(managementPort, str(d.map(), "spec", "template", "metadata", "annotations",
                    "prometheus.io/port"), d + ": Prometheus scrape port: the management interface");
            Doc svc = tree.find("Service", "base/", d.name()).orElseThrow(() -> new AssertionError(d + ": no Service"));
            assertEquals(at(d.map(), "spec", "selector", "matchLabels"), at(svc.map(), "spec", "selector"),
                    svc + " selects the Deployment's pods");
            Doc pdb = tree.find("PodDisruptionBudget", "base/", d.name())
                    .orElseThrow(() -> new AssertionError(d + ": no PodDisruptionBudget"));
            assertEquals(at(d.map(), "spec", "selector", "matchLabels"), at(pdb.map(), "spec", "selector",
                    "matchLabels"), pdb.toString());
        }
    }

    @Test
    void everyProbeIsAQuarkusHealthEndpointAndStartupWaitsForTheModel() {
        List<String> probes = new ArrayList<>();
        for (Doc d : tree.docs) {
            collectProbes(d.file(), d.map(), "", probes);
        }
        assertFalse(probes.isEmpty());
        for (String p : probes) {
            String path = p.substring(p.lastIndexOf(' ') + 1);
            assertTrue(HEALTH_PATHS.contains(path), p + " is not a Quarkus health path " + HEALTH_PATHS);
        }
        for (Doc d : tree.all("Deployment", "base/")) {
            Map<String, Object> c = container(d);
            assertEquals(Services.READY_PATH, str(c, "readinessProbe", "httpGet", "path"), d + ": readiness");
            assertEquals("/q/health/live", str(c, "livenessProbe", "httpGet", "path"), d + ": liveness");
            // Ready = model loaded and warmed up; the startup probe holds liveness off until then.
            assertEquals(Services.READY_PATH, str(c, "startupProbe", "httpGet", "path"), d + ": startup");
            int budget = (Integer) at(c, "startupProbe", "periodSeconds")
                    * (Integer) at(c, "startupProbe", "failureThreshold");
            assertTrue(budget >= 300, d + ": startup probe allows only " + budget + " s for the model to load");
        }
    }

    @Test
    void theGatewayFindsEachStageUnderTheUpstreamPropertiesOfServices() {
        Map<String, Object> gateway = container(tree.find("Deployment", "base/", "gateway").orElseThrow());
        String grpcPort = str(tree.find("ConfigMap", "base/", "dalle-config").orElseThrow().map(), "data",
                envName(Services.GRPC_PORT_PROPERTY));
        Map<String, String> want = new LinkedHashMap<>();
        Services.GATEWAY_UPSTREAM_PROPERTIES.forEach((role, property) ->
                want.put(envName(property), "dns:///" + role + "-headless:" + grpcPort));
        Map<String, String> have = new LinkedHashMap<>();
        list(gateway, "env").stream().filter(e -> want.containsKey((String) e.get("name")))
                .forEach(e -> have.put((String) e.get("name"), String.valueOf(e.get("value"))));
        assertEquals(want, have, "deploy/base/gateway.yaml: the gateway's upstream env (Services."
                + "GATEWAY_UPSTREAM_PROPERTIES in env form -> dns:///<role>-headless:<gRPC port>)");
        for (String role : Services.GATEWAY_UPSTREAM_PROPERTIES.keySet()) {
            assertTrue(tree.find("Service", "base/", role).isPresent(), "no Service " + role);
            Doc headless = tree.find("Service", "base/", role + "-headless")
                    .orElseThrow(() -> new AssertionError("no headless Service " + role + "-headless"));
            assertEquals("None", str(headless.map(), "spec", "clusterIP"), headless + ": headless, one address per pod");
            Doc deployment = tree.find("Deployment", "base/", role).orElseThrow();
            assertEquals(at(deployment.map(), "spec", "selector", "matchLabels"), at(headless.map(), "spec", "selector"),
                    headless + " selects the stage's pods");
            assertEquals(List.of(grpcPort), list(headless.map(), "spec", "ports").stream()
                    .map(p -> String.valueOf(p.get("port"))).toList(), headless + ": the gRPC port only");
        }
    }

    @Test
    void everyScaledObjectScalesAStageOnTheLagOfItsRegistryInputTopicAndGroup() {
        List<Doc> scaled = tree.all("ScaledObject", "keda/");
        assertEquals(INPUT_TOPICS.keySet(), scaled.stream().map(Doc::name).collect(Collectors.toSet()));
        for (Doc s : scaled) {
            String target = str(s.map(), "spec", "scaleTargetRef", "name");
            Doc deployment = tree.find("Deployment", "base/", target)
                    .orElseThrow(() -> new AssertionError(s + " scales " + target + ", which is no Deployment"));
            assertNull(at(deployment.map(), "spec", "replicas"), deployment + " sets replicas; KEDA owns them");
            List<Map<String, Object>> triggers = list(s.map(), "spec", "triggers");
            assertEquals(1, triggers.size(), s.toString());
            assertEquals("kafka", triggers.get(0).get("type"), s.toString());
            String topic = str(triggers.get(0), "metadata", "topic");
            TopicSpec<?> spec = Topics.byName(topic)
                    .orElseThrow(() -> new AssertionError(s + ": topic " + topic + " is not in the registry"));
            assertEquals(INPUT_TOPICS.get(target).name(), spec.name(), s + ": the stage's input topic");
            assertEquals("dalle-" + target, str(triggers.get(0), "metadata", "consumerGroup"), s + ": group");
            int max = (Integer) at(s.map(), "spec", "maxReplicaCount");
            assertTrue(max <= spec.partitions(), s + ": maxReplicaCount " + max + " exceeds the "
                    + spec.partitions() + " partitions of " + topic + " (the extra consumers would idle)");
            assertTrue((Integer) at(s.map(), "spec", "minReplicaCount") >= 1, s + ": never to zero");
            Object lag = at(triggers.get(0), "metadata", "lagThreshold");
            assertTrue(lag instanceof String && Integer.parseInt((String) lag) > 0,
                    s + ": lagThreshold must be a positive number written as a string, is " + lag);
        }
    }

    @Test
    void theGpuOverlayGivesEachModelStageAGpuItsOwnPoolAndTheTolerationAndTheBaseAsksForNone() {
        for (Doc d : tree.all("Deployment", "base/")) {
            assertNull(at(container(d), "resources", "limits", "nvidia.com/gpu"), d + ": the base is CPU only");
            assertNull(at(d.map(), "spec", "template", "spec", "nodeSelector"), d.toString());
        }
        List<Doc> patches = tree.all("Deployment", "overlays/gpu/");
        assertEquals(GPU_ROLES, patches.stream().map(Doc::name).collect(Collectors.toSet()));
        for (Doc p : patches) {
            Map<String, Object> c = container(p);
            assertEquals("dalle", c.get("name"), p + ": patches the base container by name");
            assertEquals(1, at(c, "resources", "requests", "nvidia.com/gpu"), p.toString());
            assertEquals(1, at(c, "resources", "limits", "nvidia.com/gpu"), p.toString());
            assertEquals(p.name(), str(p.map(), "spec", "template", "spec", "nodeSelector", "dalle.io/pool"),
                    p + ": its own node pool");
            List<Map<String, Object>> tolerations = list(p.map(), "spec", "template", "spec", "tolerations");
            assertTrue(tolerations.stream().anyMatch(t -> "nvidia.com/gpu".equals(t.get("key"))
                    && "NoSchedule".equals(t.get("effect"))), p + ": tolerates the GPU taint");
        }
    }

    @Test
    void theKafkaTopicsUnderDeployAreExactlyTheRegistrysWithItsSettings() {
        List<Doc> topics = tree.all("KafkaTopic", "kafka/");
        assertEquals(Topics.all().stream().map(TopicSpec::name).toList(), topics.stream().map(Doc::name).toList());
        String cluster = tree.all("Kafka", "kafka/").get(0).name();
        for (Doc t : topics) {
            TopicSpec<?> spec = Topics.byName(t.name()).orElseThrow();
            assertEquals(cluster, str(t.map(), "metadata", "labels", "strimzi.io/cluster"), t.toString());
            assertEquals(spec.partitions(), at(t.map(), "spec", "partitions"), t.toString());
            assertEquals(spec.maxMessageBytes(), at(t.map(), "spec", "config", "max.message.bytes"), t.toString());
            assertEquals(spec.retention().toMillis(),
                    ((Number) at(t.map(), "spec", "config", "retention.ms")).longValue(), t.toString());
        }
        Doc pool = tree.all("KafkaNodePool", "kafka/").get(0);
        assertEquals(cluster, str(pool.map(), "metadata", "labels", "strimzi.io/cluster"), pool.toString());
        assertTrue(((List<?>) at(pool.map(), "spec", "roles")).contains("controller"), pool + ": KRaft controllers");
        String bootstrap = str(tree.find("ConfigMap", "base/", "dalle-config").orElseThrow().map(), "data",
                envName(Services.KAFKA_PROPERTY));
        assertEquals(cluster + "-kafka-bootstrap:9093", bootstrap,
                "the services reach Strimzi's bootstrap Service on the TLS + SCRAM listener");
    }

    private static void collectProbes(String file, Object node, String where, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                String key = String.valueOf(k);
                if (key.endsWith("Probe")) {
                    String path = str(v, "httpGet", "path");
                    if (path == null) {
                        throw new AssertionError(file + where + "." + key + " is not an httpGet probe");
                    }
                    out.add(file + where + "." + key + " " + path);
                }
                collectProbes(file, v, where + "." + key, out);
            });
        } else if (node instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collectProbes(file, l.get(i), where + "[" + i + "]", out);
            }
        }
    }
}
