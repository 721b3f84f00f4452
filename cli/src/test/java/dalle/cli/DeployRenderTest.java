package dalle.cli;

import static dalle.cli.DeployTree.envName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.Kustomize.Container;
import dalle.cli.Kustomize.ImageRef;
import dalle.cli.Kustomize.Obj;
import dalle.cli.Kustomize.Rendered;
import dalle.cli.Kustomize.Service;
import dalle.cli.Kustomize.ServicePort;
import dalle.cli.Kustomize.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The manifests under {@code deploy/} as they would be applied: every kustomization rendered by
 * {@code kubectl kustomize} and checked object by object. The raw files can look right while the render is wrong
 * (an overlay's {@code images:} entry that matches nothing after the base renamed the image left every pod of the
 * gpu overlay on the CPU image), so the images, the gateway's targets, namespaces and keys are checked here on what
 * Kubernetes would receive.
 */
class DeployRenderTest {

    /** The stages with a GPU image and a GPU in the gpu overlay. */
    static final Set<String> GPU_STAGES = Set.of("sampler", "decoder", "reranker");
    /** Every kustomization under deploy/. */
    static final List<String> KUSTOMIZATIONS =
            List.of("base", "overlays/cpu", "overlays/gpu", "overlays/tls", "kafka", "keda", "training", "monitoring");
    static final String NAMESPACE = "dalle";
    private static final Pattern RELEASE_TAG = Pattern.compile("\\d+\\.\\d+\\.\\d+");
    private static final Pattern DNS_TARGET =
            Pattern.compile("dns:///(?<svc>[a-z0-9-]+)(?:\\.(?<ns>[a-z0-9-]+)\\.svc\\.cluster\\.local)?:(?<port>\\d+)");

    static final Path DEPLOY = DeployTree.repositoryRoot().resolve("deploy");
    static Map<String, Rendered> renders;

    @BeforeAll
    static void renderAll() {
        renders = new LinkedHashMap<>();
        for (String k : KUSTOMIZATIONS) {
            renders.put(k, Kustomize.render(DEPLOY.resolve(k)));
        }
    }

    static Rendered cpu() {
        return renders.get("overlays/cpu");
    }

    static Rendered gpu() {
        return renders.get("overlays/gpu");
    }

    /** The release tag the base gives every service image (dalle-<service>:<tag>). */
    static String releaseTag() {
        Set<String> tags = renders.get("base").deployments().stream().map(d -> d.container().imageRef().tag())
                .collect(Collectors.toSet());
        assertEquals(1, tags.size(), "one release tag for all five images in the base: " + tags);
        return tags.iterator().next();
    }

    @Test
    void everyKustomizationRendersAndEveryObjectIsInTheNamespace() throws IOException {
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            Set<String> found = files.filter(f -> f.getFileName().toString().equals("kustomization.yaml"))
                    .map(f -> DEPLOY.relativize(f.getParent()).toString().replace('\\', '/'))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(new TreeSet<>(KUSTOMIZATIONS), found, "every kustomization under deploy/ is rendered here");
        }
        for (Rendered r : renders.values()) {
            assertFalse(r.objects().isEmpty(), r + " renders nothing");
            for (Obj o : r.objects()) {
                assertNotNull(o.kind(), r + ": an object without kind");
                if (o.kind().equals("Namespace")) {
                    assertEquals(NAMESPACE, o.name(), r + ": " + o);
                    assertNull(o.namespace(), r + ": " + o);
                } else {
                    assertEquals(NAMESPACE, o.namespace(), r + ": " + o + " is not in the namespace " + NAMESPACE);
                }
            }
        }
        assertEquals(1, renders.get("base").all("Namespace").size(), "the base creates the namespace");
        for (String overlay : List.of("overlays/cpu", "overlays/gpu")) {
            Set<String> kinds = renders.get(overlay).objects().stream().map(o -> o.kind() + "/" + o.name())
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> base = renders.get("base").objects().stream().map(o -> o.kind() + "/" + o.name())
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(base, kinds, overlay + " renders the base's objects, no more, no fewer");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theTlsOverlayGivesEveryServiceACertificateForTheNamesItIsReachedByAndMutualTlsOnTheStages() {
        Rendered tls = renders.get("overlays/tls");
        Map<String, List<String>> dnsNames = new java.util.HashMap<>();
        for (Obj c : tls.all("Certificate")) {
            dnsNames.put(DeployTree.str(c.map(), "spec", "secretName"),
                    (List<String>) DeployTree.at(c.map(), "spec", "dnsNames"));
        }
        Workload gateway = tls.deployment("gateway");
        assertEquals("true", gateway.container().envValue("DALLE_GATEWAY_TLS_ENABLED"));
        for (Workload d : tls.deployments()) {
            String secret = DeployTree.list(d.podSpec(), "volumes").stream()
                    .filter(v -> "tls".equals(v.get("name"))).map(v -> DeployTree.str(v, "secret", "secretName"))
                    .findFirst().orElseThrow(() -> new AssertionError(d + " mounts no tls volume"));
            assertTrue(dnsNames.containsKey(secret), d + " mounts " + secret + ", which no Certificate issues");
            assertEquals("/etc/dalle/tls/tls.crt", d.container().envValue("QUARKUS_GRPC_SERVER_SSL_CERTIFICATE"), d
                    + " serves gRPC with its certificate");
            if (d.name().equals("gateway")) {
                assertTrue(dnsNames.get(secret).contains(gateway.container().envValue(
                        "DALLE_GATEWAY_TLS_PEER_AUTHORITY")), "peer replicas check the gateway's certificate by a name"
                        + " it holds");
                continue;
            }
            assertEquals("REQUIRED", d.container().envValue("QUARKUS_GRPC_SERVER_SSL_CLIENT_AUTH"), d
                    + ": only clients with a certificate of the namespace's CA");
            String target = gateway.container().envValue("DALLE_GATEWAY_" + d.name().toUpperCase(java.util.Locale.ROOT)
                    + "_ADDRESS");
            String host = target.replaceFirst("^dns:///", "").replaceFirst(":\\d+$", "");
            assertTrue(dnsNames.get(secret).contains(host), d + "'s certificate names " + dnsNames.get(secret)
                    + ", not " + host + ", the name the gateway reaches it by");
        }
        // the decoder calls the reranker (DecodeAndScore): TLS, by a name the reranker's certificate holds, presenting
        // the decoder's own certificate, which is issued for client auth too
        Workload decoder = tls.deployment("decoder");
        assertEquals("true", decoder.container().envValue("DALLE_RERANKER_TLS_ENABLED"));
        assertEquals("/etc/dalle/tls/ca.crt", decoder.container().envValue("DALLE_RERANKER_TLS_TRUST_CERTIFICATES"));
        assertEquals("/etc/dalle/tls/tls.crt", decoder.container().envValue("DALLE_RERANKER_TLS_CERTIFICATE"));
        assertEquals("/etc/dalle/tls/tls.key", decoder.container().envValue("DALLE_RERANKER_TLS_KEY"));
        String rerankerHost = decoder.container().envValue("DALLE_RERANKER_ADDRESS").replaceFirst("^dns:///", "")
                .replaceFirst(":\\d+$", "");
        assertTrue(dnsNames.get("dalle-reranker-tls").contains(rerankerHost), "the reranker's certificate names "
                + rerankerHost + ", the name the decoder reaches it by");
        for (Obj c : tls.all("Certificate")) {
            if (DeployTree.str(c.map(), "spec", "secretName").equals("dalle-decoder-tls")) {
                assertTrue(((List<String>) DeployTree.at(c.map(), "spec", "usages")).contains("client auth"),
                        "the decoder's certificate is also a client certificate");
            }
        }
    }

    @Test
    void theCpuOverlayRunsCpuImagesAndTheGpuOverlayGpuImagesForTheModelStagesOnly() {
        String tag = releaseTag();
        assertTrue(RELEASE_TAG.matcher(tag).matches(), "the base's release tag " + tag + " is a version");
        for (Workload d : renders.get("base").deployments()) {
            assertEquals(new ImageRef("dalle-" + d.name(), tag, null), d.container().imageRef(), d + " in the base");
        }
        for (Rendered overlay : List.of(cpu(), gpu())) {
            assertEquals(Services.SERVICES.keySet(), overlay.deployments().stream().map(Workload::name)
                    .collect(Collectors.toSet()), overlay + ": the five services");
        }
        String registry = cpu().deployment("gateway").container().imageRef().registry();
        assertFalse(registry.isEmpty(), "the cpu overlay names a registry");
        for (Workload d : cpu().deployments()) {
            assertEquals(new ImageRef(registry + "/dalle-" + d.name(), tag, null), d.container().imageRef(),
                    "the rendered CPU overlay runs the CPU image of " + d);
            assertEquals(0, d.container().gpus(), d + " asks for a GPU in the cpu overlay");
        }
        for (Workload d : gpu().deployments()) {
            boolean gpuStage = GPU_STAGES.contains(d.name());
            assertEquals(new ImageRef(registry + "/dalle-" + d.name(), gpuStage ? tag + "-gpu" : tag, null),
                    d.container().imageRef(), "the rendered GPU overlay runs the " + (gpuStage ? "GPU" : "CPU")
                            + " image of " + d);
            assertEquals(gpuStage ? 1 : 0, d.container().gpus(), d + ": GPUs in the gpu overlay");
            assertEquals(gpuStage ? 1 : 0, requestedGpus(d.container()), d + ": GPU requests in the gpu overlay");
        }
        // everywhere: a pod with a GPU runs a GPU image, a pod without one a CPU image
        for (Rendered r : renders.values()) {
            for (Workload w : r.workloads()) {
                for (Container c : w.containers()) {
                    assertEquals(c.gpus() > 0, c.imageRef().tag().endsWith("-gpu"), r + ": " + w + " runs "
                            + c.image() + " with " + c.gpus() + " GPUs");
                }
            }
        }
        Workload trainer = renders.get("training").workloads().get(0);
        assertEquals(new ImageRef(registry + "/dalle-trainer", tag, null), trainer.container().imageRef(),
                trainer + ": the trainer image of the same release and registry");
    }

    private static int requestedGpus(Container c) {
        Object n = DeployTree.at(c.raw(), "resources", "requests", "nvidia.com/gpu");
        return n == null ? 0 : Integer.parseInt(n.toString());
    }

    @Test
    void everyImagesEntryOfEveryKustomizationChangesWhatItRenders() throws IOException {
        int entries = 0;
        for (String k : KUSTOMIZATIONS) {
            Map<String, Object> kustomization = loadYaml(DEPLOY.resolve(k).resolve("kustomization.yaml"));
            Rendered r = renders.get(k);
            for (Map<String, Object> e : DeployTree.list(kustomization, "images")) {
                entries++;
                String name = e.get("newName") == null ? (String) e.get("name") : (String) e.get("newName");
                Object newTag = e.get("newTag");
                boolean matched = r.images().stream().anyMatch(i -> i.repository().equals(name)
                        && (newTag == null || String.valueOf(newTag).equals(i.tag())));
                assertTrue(matched, "deploy/" + k + "/kustomization.yaml: the images entry " + e + " matches no "
                        + "image of what it renders " + r.images() + " (an entry matches the name the resources "
                        + "below render, so a rename in the base makes an overlay's entry match nothing)");
            }
            if (!k.equals("base")) {
                for (ImageRef i : r.images()) {
                    assertFalse(i.registry().isEmpty(), r + " runs " + i + ", a short name no images entry replaced");
                }
            }
        }
        assertTrue(entries >= 16, "images entries found: " + entries);
    }

    @Test
    void kustomizeEditSetImageInAnOverlayChangesThatServicesImageAsTheReadmeSays(@TempDir Path tmp) throws IOException {
        String readme = Files.readString(DEPLOY.resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains("kustomize edit set image dalle-sampler="), "deploy/README.md shows the command");
        copyTree(DEPLOY, tmp.resolve("deploy"));
        for (String overlay : List.of("overlays/gpu", "overlays/cpu")) {
            // what `kustomize edit set image dalle-sampler=registry.example.com/team/dalle-sampler:9.9.9` writes:
            // the entry named dalle-sampler gets newName and newTag
            Path file = tmp.resolve("deploy").resolve(overlay).resolve("kustomization.yaml");
            Map<String, Object> k = loadYaml(file);
            List<Map<String, Object>> images = DeployTree.list(k, "images");
            Map<String, Object> entry = images.stream().filter(e -> "dalle-sampler".equals(e.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + " has no images entry dalle-sampler"));
            entry.put("newName", "registry.example.com/team/dalle-sampler");
            entry.put("newTag", "9.9.9");
            DumperOptions options = new DumperOptions();
            options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            Files.writeString(file, new Yaml(new Representer(options), options).dump(k), StandardCharsets.UTF_8);

            Rendered edited = Kustomize.render(tmp.resolve("deploy").resolve(overlay));
            Rendered original = renders.get(overlay);
            for (Workload d : edited.deployments()) {
                ImageRef want = d.name().equals("sampler") ? ImageRef.parse("registry.example.com/team/dalle-sampler:9.9.9")
                        : original.deployment(d.name()).container().imageRef();
                assertEquals(want, d.container().imageRef(), overlay + " after setting dalle-sampler's image: " + d);
            }
        }
    }

    @Test
    void theGatewayReachesEveryReadyReplicaOfEachStageThroughAHeadlessServiceRoundRobin() throws IOException {
        String balancing = Files.readString(DeployTree.repositoryRoot()
                .resolve("services/gateway/src/main/java/dalle/services/gateway/StageClients.java"));
        assertTrue(balancing.contains("defaultLoadBalancingPolicy(\"round_robin\")"),
                "the gateway's stage channels balance round robin (else a headless Service gives one pod all calls)");
        for (Rendered r : List.of(cpu(), gpu())) {
            String grpcPort = r.configMap("dalle-config").get(envName(Services.GRPC_PORT_PROPERTY));
            assertNotNull(grpcPort, r + ": the services' gRPC port in dalle-config");
            Container gateway = r.deployment("gateway").container();
            for (Map.Entry<String, String> e : Services.GATEWAY_UPSTREAM_PROPERTIES.entrySet()) {
                String stage = e.getKey();
                String target = gateway.envValue(envName(e.getValue()));
                Matcher m = DNS_TARGET.matcher(String.valueOf(target));
                assertTrue(m.matches(), r + ": the gateway's " + envName(e.getValue()) + " is " + target
                        + ", not dns:///<headless service>:<port>");
                if (m.group("ns") != null) {
                    assertEquals(NAMESPACE, m.group("ns"), r + ": " + target);
                }
                Service svc = r.service(m.group("svc")).orElseThrow(() ->
                        new AssertionError(r + ": " + target + " names no Service of the render"));
                assertTrue(svc.headless(), svc + " must be headless (clusterIP: None): DNS answers with every pod");
                assertFalse(svc.publishNotReadyAddresses(), svc + ": only ready (warmed-up) pods get calls");
                Workload stageDeployment = r.deployment(stage);
                assertTrue(stageDeployment.selectedBy(svc.selector()), svc + " does not select the pods of " + stage);
                for (Workload other : r.deployments()) {
                    if (!other.name().equals(stage)) {
                        assertFalse(other.selectedBy(svc.selector()), svc + " also selects the pods of " + other);
                    }
                }
                int port = Integer.parseInt(m.group("port"));
                ServicePort sp = svc.ports().stream().filter(p -> p.port() == port).findFirst()
                        .orElseThrow(() -> new AssertionError(svc + " has no port " + port + " (" + target + ")"));
                // headless: the client connects to the pod's address on the port it resolved, so the container
                // itself must listen there
                assertEquals(Integer.valueOf(port), stageDeployment.container().port(sp.targetPort()),
                        svc + ": targetPort " + sp.targetPort() + " is not the stage's container port " + port);
                assertEquals(grpcPort, String.valueOf(port), r + ": " + target + " is not the services' gRPC port");

                String age = stageDeployment.container().envValue("DALLE_GRPC_MAX_CONNECTION_AGE");
                assertNotNull(age, stageDeployment + ": no server max-connection-age (DALLE_GRPC_MAX_CONNECTION_AGE),"
                        + " so the gateway would never re-resolve and new replicas would get no calls");
                Duration d = duration(age);
                assertTrue(!d.isNegative() && !d.isZero() && d.compareTo(Duration.ofMinutes(5)) <= 0,
                        stageDeployment + ": max connection age " + age + " is not in (0, 5m]");
            }
        }
    }

    @Test
    void everyDalleQuarkusOrKafkaVariableAServiceGetsIsAKeyOfThatService() {
        for (Rendered r : List.of(cpu(), gpu())) {
            for (Workload d : r.deployments()) {
                Set<String> keys = ServiceKeys.envKeys(d.name());
                Container c = d.container();
                List<String> given = new ArrayList<>(c.env().keySet());
                for (String cm : c.envFromConfigMaps()) {
                    Map<String, String> data = r.configMap(cm);
                    assertNotNull(data, r + ": " + d + " takes env from ConfigMap " + cm + ", which is not rendered");
                    given.addAll(data.keySet());
                }
                for (String name : given) {
                    if (ServiceKeys.isServiceKey(name)) {
                        assertTrue(keys.contains(name), r + ": " + d + " gets " + name + ", which is no key of "
                                + "services/" + d.name() + " (application.properties, README)");
                    }
                }
                Map<String, Object> model = c.env().get(envName(Services.MODEL_PROPERTY));
                assertEquals(!d.name().equals("gateway"), model != null, r + ": " + d + ": DALLE_MODEL");
                if (model != null) {
                    String cm = DeployTree.str(model, "valueFrom", "configMapKeyRef", "name");
                    String key = DeployTree.str(model, "valueFrom", "configMapKeyRef", "key");
                    assertNotNull(r.configMap(cm), r + ": " + d + ": DALLE_MODEL from ConfigMap " + cm);
                    assertTrue(r.configMap(cm).get(key).startsWith("/"), r + ": " + d + ": the bundle path");
                }
            }
        }
    }

    @Test
    void everyServiceSelectsPodsAndEveryWorkloadRunsNonRootOnAReadOnlyRootWithTmpWritable() {
        for (Rendered r : renders.values()) {
            List<Workload> workloads = r.workloads();
            for (Service s : r.services()) {
                assertTrue(workloads.stream().anyMatch(w -> w.selectedBy(s.selector())), r + ": " + s
                        + " selects no pod of the render (selector " + s.selector() + ")");
            }
            for (Obj pdb : r.all("PodDisruptionBudget")) {
                Map<String, String> sel = Kustomize.stringMap(DeployTree.at(pdb.map(), "spec", "selector", "matchLabels"));
                assertEquals(1, workloads.stream().filter(w -> w.selectedBy(sel)).count(), r + ": " + pdb);
            }
        }
        for (Rendered r : List.of(cpu(), gpu())) {
            String managementPort = r.configMap("dalle-config").get(envName(Services.MANAGEMENT_PORT_PROPERTY));
            assertNotNull(managementPort, r + ": the management port in dalle-config");
            for (Workload d : r.deployments()) {
                assertEquals(true, DeployTree.at(d.podSpec(), "securityContext", "runAsNonRoot"), r + ": " + d);
                assertTrue((Integer) DeployTree.at(d.podSpec(), "securityContext", "runAsUser") > 0, r + ": " + d);
                Container c = d.container();
                assertEquals(true, DeployTree.at(c.raw(), "securityContext", "readOnlyRootFilesystem"), r + ": " + d);
                assertEquals(false, DeployTree.at(c.raw(), "securityContext", "allowPrivilegeEscalation"), r + ": " + d);
                String tmpVolume = DeployTree.list(c.raw(), "volumeMounts").stream()
                        .filter(v -> "/tmp".equals(v.get("mountPath"))).map(v -> (String) v.get("name")).findFirst()
                        .orElseThrow(() -> new AssertionError(r + ": " + d + " mounts nothing writable at /tmp"));
                assertTrue(DeployTree.list(d.podSpec(), "volumes").stream().anyMatch(v -> tmpVolume.equals(v.get("name"))
                        && v.get("emptyDir") != null), r + ": " + d + ": /tmp is an emptyDir");
                for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    Object port = DeployTree.at(c.raw(), probe, "httpGet", "port");
                    assertEquals(managementPort, String.valueOf(c.port(port)), r + ": " + d + " " + probe + " port "
                            + port + ": health is on the management interface");
                }
            }
        }
        Rendered keda = renders.get("keda");
        assertEquals(4, keda.all("ScaledObject").size(), "one ScaledObject per Kafka stage");
        for (Obj so : keda.all("ScaledObject")) {
            String target = DeployTree.str(so.map(), "spec", "scaleTargetRef", "name");
            for (Rendered overlay : List.of(cpu(), gpu())) {
                assertNotNull(overlay.deployment(target), so + " scales " + target);
            }
        }
    }

    /** Quarkus' duration syntax as used here: a number and a unit (ms, s, m, h), or ISO-8601. */
    static Duration duration(String s) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(s);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        return Duration.parse(s);
    }

    static Map<String, Object> loadYaml(Path file) throws IOException {
        return Kustomize.map(new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(file, StandardCharsets.UTF_8)));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
