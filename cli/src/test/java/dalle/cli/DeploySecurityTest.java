package dalle.cli;

import static dalle.cli.DeployTree.envName;
import static dalle.cli.DeployTree.list;
import static dalle.cli.DeployTree.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.Kustomize.Container;
import dalle.cli.Kustomize.Obj;
import dalle.cli.Kustomize.Rendered;
import dalle.cli.Kustomize.Workload;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.KafkaAccess;
import dalle.services.common.kafka.KafkaSecurity;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka security and network isolation of {@code deploy/} as rendered (issue 13, items 3 and 4): each
 * KafkaUser's ACLs are exactly what its service's code reads and writes, each service logs in as its own user with
 * the Secrets Strimzi writes (and the keys it gets pass {@link KafkaSecurity}'s checks), KEDA uses the same
 * Secrets, and the NetworkPolicies select the pods they mean: only the gateway is open, the stages only to the
 * gateway (the reranker also to the decoder, whose DecodeAndScore scores there), Kafka only to the services (and
 * KEDA).
 */
class DeploySecurityTest {

    private static final Path REPO = DeployTree.repositoryRoot();
    private static Map<String, Rendered> renders;

    @BeforeAll
    static void render() {
        DeployRenderTest.renderAll();
        renders = DeployRenderTest.renders;
    }

    private static Obj kafka() {
        List<Obj> k = renders.get("kafka").all("Kafka");
        assertEquals(1, k.size(), "one Kafka resource");
        return k.get(0);
    }

    private static Map<String, Object> listener() {
        List<Map<String, Object>> listeners = list(kafka().map(), "spec", "kafka", "listeners");
        assertEquals(1, listeners.size(), "one listener, no plaintext one beside it: " + listeners);
        return listeners.get(0);
    }

    @Test
    void theKafkaListenerIsTlsWithScramLoginsAndSimpleAuthorization() {
        Map<String, Object> l = listener();
        assertEquals(true, l.get("tls"), "TLS: " + l);
        assertEquals("scram-sha-512", str(l, "authentication", "type"), "SCRAM logins: " + l);
        assertEquals("simple", str(kafka().map(), "spec", "kafka", "authorization", "type"), "Kafka's authorizer");
        assertNotNull(DeployTree.at(kafka().map(), "spec", "entityOperator", "userOperator"),
                "the User Operator turns the KafkaUsers into SCRAM credentials, Secrets and ACLs");
    }

    @Test
    void everyKafkaUsersAclsAreExactlyWhatItsServiceReadsAndWrites() {
        Rendered k = renders.get("kafka");
        Map<String, Set<String>> rendered = new TreeMap<>();
        for (Obj u : k.all("KafkaUser")) {
            assertEquals(kafka().name(), str(u.map(), "metadata", "labels", "strimzi.io/cluster"), u.toString());
            assertEquals("scram-sha-512", str(u.map(), "spec", "authentication", "type"), u.toString());
            assertEquals("simple", str(u.map(), "spec", "authorization", "type"), u.toString());
            Set<String> acls = new TreeSet<>();
            for (Map<String, Object> a : list(u.map(), "spec", "authorization", "acls")) {
                assertTrue(a.get("type") == null || "allow".equals(a.get("type")), u + ": only allow rules " + a);
                assertTrue(a.get("host") == null || "*".equals(a.get("host")), u + ": " + a);
                String pattern = a.get("resource") instanceof Map<?, ?> r && r.get("patternType") != null
                        ? String.valueOf(r.get("patternType")) : "literal";
                for (Object op : (List<?>) a.get("operations")) {
                    acls.add(str(a, "resource", "type") + " " + str(a, "resource", "name") + " " + pattern + " " + op);
                }
            }
            rendered.put(u.name(), acls);
        }
        Map<String, Set<String>> expected = new TreeMap<>();
        KafkaAccess.all().forEach((principal, grants) -> {
            Set<String> acls = new TreeSet<>();
            for (KafkaAccess.Grant g : grants) {
                for (String op : g.operations()) {
                    acls.add(g.resource() + " " + g.name() + " " + (g.prefix() ? "prefix" : "literal") + " " + op);
                }
            }
            expected.put(principal, acls);
        });
        assertEquals(expected, rendered, "deploy/kafka/users.yaml grants what KafkaAccess says");
    }

    @Test
    void kafkaAccessMatchesTheTopicsTheCodeReadsAndWrites() throws IOException {
        String stageLoop = source("services/common/src/main/java/dalle/services/common/kafka/KafkaStage.java");
        assertTrue(stageLoop.contains("GROUP_ID_CONFIG, \"dalle-\" + stage"), "KafkaStage's group is dalle-<stage>");
        assertTrue(stageLoop.contains("Topics.GENERATION_EVENTS.name()"), "KafkaStage writes generation-events");
        for (KafkaAccess.StageTopics s : KafkaAccess.STAGES) {
            String name = Character.toUpperCase(s.stage().charAt(0)) + s.stage().substring(1);
            String handler = source("services/" + s.stage() + "/src/main/java/dalle/services/" + s.stage()
                    + "/messaging/" + name + "Handler.java");
            assertTrue(handler.contains("return Topics." + constant(s.input()) + ";"), s + ": the handler's input");
            assertEquals(Set.of(constant(s.output())), matches(handler, "out\\.send\\(Topics\\.(\\w+)"),
                    s + ": what the handler writes");
        }
        String gatewayConfig = source("services/gateway/src/main/java/dalle/services/gateway/config/GatewayConfig.java");
        for (String app : KafkaAccess.GATEWAY_APPLICATION_IDS) {
            assertTrue(gatewayConfig.contains("@WithDefault(\"" + app + "\")"), "the gateway's default application id "
                    + app);
        }
        Set<String> reads = new TreeSet<>();
        Set<String> writes = new TreeSet<>();
        for (String f : List.of("FanIn", "StatusView")) {
            String code = source("services/gateway/src/main/java/dalle/services/gateway/fanin/" + f + ".java");
            reads.addAll(matches(code, "builder\\.stream\\(Topics\\.(\\w+)"));
            writes.addAll(matches(code, "\\.to\\(Topics\\.(\\w+)"));
        }
        String runtime = source("services/gateway/src/main/java/dalle/services/gateway/GatewayRuntime.java");
        assertTrue(runtime.contains("Topics.GENERATION_REQUESTS.valueSerde().serializer()"), "the gateway's producer");
        writes.add("GENERATION_REQUESTS");
        Set<String> granted = new TreeSet<>();
        for (KafkaAccess.Grant g : KafkaAccess.gateway()) {
            if (g.resource() == KafkaAccess.Resource.topic && !g.prefix()) {
                g.operations().forEach(op -> granted.add(op + " " + g.name()));
            }
        }
        for (String t : reads) {
            String topic = topic(t).name();
            assertTrue(granted.contains("Read " + topic), "the gateway reads " + topic);
            assertTrue(granted.contains("Write " + Topics.deadLetterTopic(topic)), "the gateway dead-letters " + topic);
        }
        for (String t : writes) {
            assertTrue(granted.contains("Write " + topic(t).name()), "the gateway writes " + topic(t).name());
        }
        // and the deploy keeps the default application ids (the gateway's prefixed grants are named after them)
        for (Rendered r : List.of(DeployRenderTest.cpu(), DeployRenderTest.gpu())) {
            Container g = r.deployment("gateway").container();
            for (String key : List.of("dalle.gateway.fan-in-application-id", "dalle.gateway.status-view-application-id")) {
                String v = g.envValue(envName(key));
                assertTrue(v == null || KafkaAccess.GATEWAY_APPLICATION_IDS.stream().anyMatch(v::startsWith),
                        r + ": " + key + " = " + v + " is outside the gateway's ACLs");
            }
        }
    }

    @Test
    void everyServiceLogsInAsItsOwnUserWithItsSecretAndTrustsTheClusterCa(@TempDir Path tmp) throws IOException {
        Set<String> users = new TreeSet<>();
        renders.get("kafka").all("KafkaUser").forEach(u -> users.add(u.name()));
        String caSecret = kafka().name() + "-cluster-ca-cert";
        for (Rendered r : List.of(DeployRenderTest.cpu(), DeployRenderTest.gpu())) {
            Map<String, String> config = r.configMap("dalle-config");
            assertEquals(kafka().name() + "-kafka-bootstrap:" + listener().get("port"),
                    config.get("KAFKA_BOOTSTRAP_SERVERS"), r + ": the services use the TLS + SCRAM listener");
            for (Workload d : r.deployments()) {
                Container c = d.container();
                Map<String, String> env = new HashMap<>(config);
                c.env().keySet().forEach(k -> {
                    if (c.envValue(k) != null) {
                        env.put(k, c.envValue(k));
                    }
                });
                String user = env.get(envName(KafkaSecurity.SASL_USERNAME));
                assertEquals("dalle-" + d.name(), user, r + ": " + d + " logs in as its own user");
                assertTrue(users.contains(user), r + ": " + d + ": no KafkaUser " + user + " in deploy/kafka");
                String password = env.get(envName(KafkaSecurity.SASL_PASSWORD_FILE));
                assertEquals(List.of(user, "password"), secretFile(d, Path.of(password)),
                        r + ": " + d + ": the password file is key 'password' of the Secret of KafkaUser " + user);
                String ca = env.get(envName(KafkaSecurity.TRUSTSTORE));
                assertEquals(List.of(caSecret, "ca.crt"), secretFile(d, Path.of(ca)),
                        r + ": " + d + ": the truststore is the cluster CA certificate");
                // the keys as the service reads them, the Secrets' files standing in: KafkaSecurity's checks pass
                Map<String, String> keys = new HashMap<>();
                for (String key : KafkaSecurity.KEYS) {
                    if (env.containsKey(envName(key))) {
                        keys.put(key, env.get(envName(key)));
                    }
                }
                keys.put(KafkaSecurity.SASL_PASSWORD_FILE, Files.writeString(tmp.resolve("password"), "pw").toString());
                keys.put(KafkaSecurity.TRUSTSTORE, Files.writeString(tmp.resolve("ca.crt"),
                        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").toString());
                KafkaSecurity security = KafkaSecurity.fromMap(keys);
                assertEquals("SASL_SSL", security.protocol(), r + ": " + d);
                assertEquals("SCRAM-SHA-512", security.properties().get("sasl.mechanism"), r + ": " + d);
                assertFalse(security.properties().containsKey("ssl.endpoint.identification.algorithm"),
                        r + ": " + d + ": the brokers' host names are checked");
            }
        }
    }

    @Test
    void kedaReadsEachStagesLagWithThatStagesOwnUserOverTls() {
        Rendered keda = renders.get("keda");
        for (Obj so : keda.all("ScaledObject")) {
            String target = str(so.map(), "spec", "scaleTargetRef", "name");
            List<Map<String, Object>> triggers = list(so.map(), "spec", "triggers");
            assertEquals(1, triggers.size(), so.toString());
            Map<String, Object> t = triggers.get(0);
            assertEquals(kafka().name() + "-kafka-bootstrap." + DeployRenderTest.NAMESPACE + ".svc:"
                    + listener().get("port"), str(t, "metadata", "bootstrapServers"), so.toString());
            assertEquals("scram_sha512", str(t, "metadata", "sasl"), so.toString());
            assertEquals("enable", str(t, "metadata", "tls"), so.toString());
            String authName = str(t, "authenticationRef", "name");
            Obj auth = keda.all("TriggerAuthentication").stream().filter(a -> a.name().equals(authName)).findFirst()
                    .orElseThrow(() -> new AssertionError(so + ": no TriggerAuthentication " + authName));
            Map<String, List<String>> secrets = new HashMap<>();
            for (Map<String, Object> ref : list(auth.map(), "spec", "secretTargetRef")) {
                secrets.put(String.valueOf(ref.get("parameter")), List.of(String.valueOf(ref.get("name")),
                        String.valueOf(ref.get("key"))));
            }
            Map<String, Object> username = list(auth.map(), "spec", "env").stream()
                    .filter(e -> "username".equals(e.get("parameter"))).findFirst()
                    .orElseThrow(() -> new AssertionError(auth + ": no username"));
            for (Rendered r : List.of(DeployRenderTest.cpu(), DeployRenderTest.gpu())) {
                Workload d = r.deployment(target);
                Container c = d.containers().stream().filter(x -> x.name().equals(username.get("containerName")))
                        .findFirst().orElseThrow(() -> new AssertionError(auth + ": no container "
                                + username.get("containerName") + " in " + d));
                String user = c.envValue(String.valueOf(username.get("name")));
                assertEquals("dalle-" + target, user, auth + ": the user name from " + d);
                assertEquals(secretFile(d, Path.of(c.envValue(envName(KafkaSecurity.SASL_PASSWORD_FILE)))),
                        secrets.get("password"), auth + ": the password the stage itself uses");
                assertEquals(List.of(kafka().name() + "-cluster-ca-cert", "ca.crt"), secrets.get("ca"), auth.toString());
            }
        }
    }

    @Test
    void onlyTheGatewayIsOpenTheStagesServeOnlyTheGatewayAndKafkaOnlyTheServices() {
        for (Rendered r : List.of(DeployRenderTest.cpu(), DeployRenderTest.gpu())) {
            List<Obj> policies = r.all("NetworkPolicy");
            assertFalse(policies.isEmpty(), r + ": NetworkPolicies");
            Workload gateway = r.deployment("gateway");
            for (Obj np : policies) {
                assertTrue(r.deployments().stream().anyMatch(d -> selects(DeployTree.at(np.map(), "spec", "podSelector"),
                        d.podLabels())), r + ": " + np + " selects no pod");
            }
            for (Workload d : r.deployments()) {
                List<Obj> selecting = policies.stream()
                        .filter(np -> selects(DeployTree.at(np.map(), "spec", "podSelector"), d.podLabels())).toList();
                assertFalse(selecting.isEmpty(), r + ": " + d + " is selected by no NetworkPolicy: open to anyone");
                Set<String> grpcFrom = new TreeSet<>();
                boolean open = false;
                for (Obj np : selecting) {
                    for (Map<String, Object> rule : list(np.map(), "spec", "ingress")) {
                        List<String> ports = new ArrayList<>();
                        for (Map<String, Object> p : list(rule, "ports")) {
                            assertNotNull(d.container().port(p.get("port")), r + ": " + np + " names port "
                                    + p.get("port") + ", which " + d + " does not have");
                            ports.add(String.valueOf(p.get("port")));
                        }
                        List<Map<String, Object>> from = list(rule, "from");
                        if (from.isEmpty()) {
                            open = true;
                            continue;
                        }
                        for (Map<String, Object> peer : from) {
                            Object ns = peer.get("namespaceSelector");
                            if (ns != null) {
                                assertFalse(Kustomize.map(ns).isEmpty(), r + ": " + np + " lets in every namespace");
                                assertEquals(List.of("management"), ports, r + ": " + np + ": another namespace "
                                        + "reaches only the management port (metrics) of " + d);
                            } else if (ports.contains("grpc")) {
                                for (Workload w : r.deployments()) {
                                    if (selects(peer.get("podSelector"), w.podLabels())) {
                                        grpcFrom.add(w.name());
                                    }
                                }
                            }
                        }
                    }
                }
                if (d.name().equals(gateway.name())) {
                    assertTrue(open, r + ": the gateway is reachable from outside");
                } else {
                    assertFalse(open, r + ": " + d + " is open to anyone");
                    // the decoder's DecodeAndScore (the gateway's synchronous path) scores through the reranker
                    assertEquals(d.name().equals("reranker") ? Set.of("decoder", "gateway") : Set.of("gateway"),
                            grpcFrom, r + ": who reaches " + d + "'s gRPC port");
                }
            }
            // Kafka: Strimzi writes the listener's policy from networkPolicyPeers
            List<Map<String, Object>> peers = list(listener(), "networkPolicyPeers");
            assertFalse(peers.isEmpty(), "the Kafka listener names who may connect");
            for (Map<String, Object> peer : peers) {
                if (peer.get("namespaceSelector") != null) {
                    assertEquals("keda", str(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"),
                            "the only other namespace let in is KEDA's: " + peer);
                    assertEquals("keda-operator", str(peer, "podSelector", "matchLabels", "app"), peer.toString());
                } else {
                    for (Workload d : r.deployments()) {
                        assertTrue(selects(peer.get("podSelector"), d.podLabels()), r + ": Kafka lets in " + d);
                    }
                }
            }
        }
    }

    /** The (Secret, key) a file path comes from: the secret volume mounted at a folder above it. */
    private static List<String> secretFile(Workload d, Path file) {
        for (Map<String, Object> m : list(d.container().raw(), "volumeMounts")) {
            Path mount = Path.of(String.valueOf(m.get("mountPath")));
            if (!file.startsWith(mount) || file.equals(mount)) {
                continue;
            }
            String relative = mount.relativize(file).toString();
            Map<String, Object> volume = list(d.podSpec(), "volumes").stream()
                    .filter(v -> m.get("name").equals(v.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError(d + ": no volume " + m.get("name")));
            String secret = str(volume, "secret", "secretName");
            assertNotNull(secret, d + ": " + file + " is on volume " + m.get("name") + ", not a Secret");
            List<Map<String, Object>> items = list(volume, "secret", "items");
            String key = items.isEmpty() ? relative : items.stream().filter(i -> relative.equals(i.get("path")))
                    .map(i -> String.valueOf(i.get("key"))).findFirst()
                    .orElseThrow(() -> new AssertionError(d + ": Secret " + secret + " has no item at " + relative));
            return List.of(secret, key);
        }
        throw new AssertionError(d + ": nothing is mounted above " + file);
    }

    /** A label selector (matchLabels and matchExpressions) against pod labels; an empty selector selects all. */
    static boolean selects(Object selector, Map<String, String> labels) {
        Map<String, Object> s = selector == null ? Map.of() : Kustomize.map(selector);
        if (!labels.entrySet().containsAll(Kustomize.stringMap(s.getOrDefault("matchLabels", Map.of())).entrySet())) {
            return false;
        }
        for (Map<String, Object> e : list(s, "matchExpressions")) {
            String key = String.valueOf(e.get("key"));
            List<?> values = e.get("values") instanceof List<?> v ? v : List.of();
            boolean ok = switch (String.valueOf(e.get("operator"))) {
                case "In" -> values.contains(labels.get(key));
                case "NotIn" -> !values.contains(labels.get(key));
                case "Exists" -> labels.containsKey(key);
                case "DoesNotExist" -> !labels.containsKey(key);
                default -> throw new AssertionError("unknown selector operator in " + e);
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String source(String path) throws IOException {
        return Files.readString(REPO.resolve(path));
    }

    private static Set<String> matches(String text, String regex) {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The name of the Topics constant holding {@code spec}. */
    private static String constant(TopicSpec<?> spec) {
        for (Field f : Topics.class.getFields()) {
            try {
                if (f.get(null) == spec) {
                    return f.getName();
                }
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("no Topics constant for " + spec.name());
    }

    private static TopicSpec<?> topic(String constant) {
        try {
            return (TopicSpec<?>) Topics.class.getField(constant).get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no Topics." + constant, e);
        }
    }
}
