package dalle.cli;

import static dalle.cli.DeployTree.envName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.Dockerfile.Build;
import dalle.cli.Dockerfile.Instruction;
import dalle.cli.Dockerfile.Stage;
import dalle.cli.Kustomize.ImageRef;
import dalle.cli.Kustomize.Rendered;
import dalle.cli.Kustomize.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * {@code docker/}: one Dockerfile per image and the compose file, checked without a Docker engine (none runs on these
 * machines) by reading them as the builder would ({@link Dockerfile}) and comparing them with the modules, the
 * services' configuration, the Maven build and what {@code deploy/} renders ({@link Kustomize}): each image builds
 * the module that exists and runs its quarkus-app (or the CLI), on the ports and with the keys that service has,
 * with the model parts it reads, non-root, on pinned base images; libtorch is unpacked at build time in the flavour
 * of the image's variant; compose and deploy/ name the same images.
 */
class DockerImagesTest {

    static final Path ROOT = DeployTree.repositoryRoot();
    static final Path DOCKER = ROOT.resolve("docker");
    /** The images: the five services and the trainer (the dalle CLI). */
    static final List<String> IMAGES = List.of("gateway", "tokenizer", "sampler", "decoder", "reranker", "trainer");
    /** The images with libtorch, each with a GPU variant (--build-arg VARIANT=gpu). */
    static final Set<String> LIBTORCH_IMAGES = Set.of("sampler", "decoder", "reranker", "trainer");
    /** The uid:gid every image runs as. */
    static final String USER = "10001:10001";
    /** An exact version tag: three numeric parts first (3.9.11-eclipse-temurin-17, 17.0.16_8-jre-noble, 12.4.1-base-...). */
    static final Pattern PINNED_TAG = Pattern.compile("\\d+\\.\\d+\\.\\d+(?:[._+-][A-Za-z0-9._-]+)?");
    static final Pattern NATIVE_ARTIFACT = Pattern.compile("pytorch-native-(cpu|cu\\d{3})");

    static Rendered cpu;
    static Rendered gpu;
    static Rendered training;
    static Map<String, Object> compose;
    static Map<String, Object> composeGpu;

    @BeforeAll
    static void load() throws IOException {
        cpu = Kustomize.render(DeployRenderTest.DEPLOY.resolve("overlays/cpu"));
        gpu = Kustomize.render(DeployRenderTest.DEPLOY.resolve("overlays/gpu"));
        training = Kustomize.render(DeployRenderTest.DEPLOY.resolve("training"));
        compose = DeployRenderTest.loadYaml(DOCKER.resolve("compose.yaml"));
        composeGpu = DeployRenderTest.loadYaml(DOCKER.resolve("compose.gpu.yaml"));
    }

    static Dockerfile dockerfile(String image) {
        return Dockerfile.parse(DOCKER.resolve(image + ".Dockerfile"));
    }

    /** The builds of an image: cpu and gpu for the libtorch images (VARIANT), the one build otherwise (key "cpu"). */
    static Map<String, Build> builds(String image) {
        Dockerfile f = dockerfile(image);
        Map<String, Build> b = new LinkedHashMap<>();
        if (f.globalArgs.containsKey("VARIANT")) {
            assertEquals("cpu", f.globalArgs.get("VARIANT"), f.file + ": the default variant is the CPU one");
            b.put("cpu", f.resolve(Map.of()));
            b.put("gpu", f.resolve(Map.of("VARIANT", "gpu")));
        } else {
            b.put("cpu", f.resolve(Map.of()));
        }
        return b;
    }

    /** The deployed image of a service in an overlay's render, or the trainer's in the training render. */
    static ImageRef deployedImage(Rendered r, String image) {
        return image.equals("trainer") ? training.workloads().get(0).container().imageRef()
                : r.deployment(image).container().imageRef();
    }

    @Test
    void theDockerFolderHasOneDockerfilePerImageAndTheOldImageIsGone() throws IOException {
        try (Stream<Path> files = Files.list(DOCKER)) {
            assertEquals(new TreeSet<>(IMAGES), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".Dockerfile")).map(n -> n.substring(0, n.length() - ".Dockerfile".length()))
                    .collect(Collectors.toCollection(TreeSet::new)));
        }
        try (Stream<Path> files = Files.walk(ROOT)) {
            List<String> elsewhere = files.filter(p -> !p.startsWith(DOCKER) && !p.toString().contains("/target/")
                            && !p.toString().contains("/.git/")
                            && p.getFileName().toString().matches("(.*\\.)?Dockerfile(\\.(?!java$).*)?"))
                    .map(p -> ROOT.relativize(p).toString()).toList();
            assertEquals(List.of(), elsewhere, "Dockerfiles live in docker/ only");
        }
        for (String image : IMAGES) {
            assertEquals(LIBTORCH_IMAGES.contains(image), dockerfile(image).globalArgs.containsKey("VARIANT"),
                    image + ": a GPU variant (ARG VARIANT) exactly for the images with libtorch");
        }
    }

    @Test
    void everyBaseImageIsPinnedToAnExactVersionTagAndTheSameTagEverywhere() {
        Map<String, Set<String>> tagsByRepository = new TreeMap<>();
        List<String> refs = new ArrayList<>();
        for (String image : IMAGES) {
            for (Build b : builds(image).values()) {
                refs.addAll(b.externalImages());
            }
        }
        for (Object svc : Kustomize.map(compose.get("services")).values()) {
            String ref = (String) Kustomize.map(svc).get("image");
            if (!ref.startsWith(registry() + "/")) {
                refs.add(ref); // third-party images of compose (the broker); ours are checked against deploy/
            }
        }
        assertTrue(refs.size() >= 10, "base images found: " + refs);
        for (String ref : refs) {
            ImageRef r = ImageRef.parse(ref);
            assertNotNull(r.tag(), ref + " has no tag (it would float on latest)");
            assertTrue(PINNED_TAG.matcher(r.tag()).matches(), ref + ": tag " + r.tag() + " is not an exact version "
                    + "(major.minor.patch...); no latest, no floating major-only tags");
            tagsByRepository.computeIfAbsent(r.repository(), k -> new TreeSet<>()).add(r.tag());
        }
        tagsByRepository.forEach((repo, tags) -> assertEquals(1, tags.size(), repo + " is pinned to several tags "
                + tags + ": one tag per base image, updated everywhere at once"));
        assertTrue(tagsByRepository.keySet().containsAll(List.of("maven", "eclipse-temurin", "nvidia/cuda")),
                tagsByRepository.toString());
        // the broker is the version of the services' Kafka clients
        assertEquals(Set.of(pom().property("kafka.version")), tagsByRepository.get("apache/kafka"),
                "compose's broker image and the parent pom's kafka.version");
    }

    @Test
    void eachServiceImageBuildsItsModuleAndRunsItsQuarkusAppOnItsPortsAsTheDeploymentsUser() throws IOException {
        for (String service : Services.SERVICES.keySet()) {
            Path module = ROOT.resolve("services").resolve(service);
            assertEquals("dalle-" + service, pomArtifactId(module.resolve("pom.xml")), module + "/pom.xml");
            assertTrue(new Pom(ROOT.resolve("services/pom.xml")).modules().contains(service),
                    "services/pom.xml lists the module " + service);
            Properties app = ServiceKeys.applicationProperties(service);
            Set<String> ports = Set.of(app.getProperty(Services.HTTP_PORT_PROPERTY), app.getProperty(Services.GRPC_PORT_PROPERTY),
                    app.getProperty(Services.MANAGEMENT_PORT_PROPERTY));
            Workload deployment = cpu.deployment(service);
            assertEquals(ports, deployment.container().ports().values().stream().map(String::valueOf)
                    .collect(Collectors.toSet()), deployment + ": container ports and the service's own");
            for (Map.Entry<String, Build> variant : builds(service).entrySet()) {
                Build b = variant.getValue();
                String where = "docker/" + service + ".Dockerfile (" + variant.getKey() + ")";
                Stage fin = b.finalStage();
                String quarkusApp = "/src/services/" + service + "/target/quarkus-app/";
                Map<String, String> copied = new LinkedHashMap<>();
                Stage build = null;
                for (Instruction copy : b.all(fin, "COPY")) {
                    if (copy.flags().containsKey("from") && copy.operands().get(0).startsWith("/src/")) {
                        List<String> ops = copy.operands();
                        assertEquals(2, ops.size(), where + " " + copy);
                        assertTrue(ops.get(0).startsWith(quarkusApp), where + " copies " + ops.get(0)
                                + ", which is not the quarkus-app of services/" + service);
                        copied.put(ops.get(0).substring(quarkusApp.length()), ops.get(1));
                        build = b.from(copy);
                    }
                }
                assertEquals(Set.of("lib/", "*.jar", "app/", "quarkus/"), copied.keySet(),
                        where + ": the quarkus-app's four parts");
                String appDir = copied.get("*.jar");
                assertEquals(appDir + "lib/", copied.get("lib/"), where);
                assertEquals(appDir + "app/", copied.get("app/"), where);
                assertEquals(appDir + "quarkus/", copied.get("quarkus/"), where);
                assertNotNull(build, where + ": copies nothing from a build stage");
                String runs = b.runs(build);
                assertMavenBuild(where, runs, "services/" + service, variant.getKey());
                List<String> entrypoint = b.last(fin, "ENTRYPOINT").orElseThrow().exec();
                assertEquals("java", entrypoint.get(0), where + " ENTRYPOINT");
                assertEquals(appDir + "quarkus-run.jar", entrypoint.get(entrypoint.indexOf("-jar") + 1),
                        where + ": runs the copied quarkus-run.jar");
                assertEquals(ports, exposed(b, fin), where + ": EXPOSE and the service's quarkus.http.port, "
                        + "quarkus.grpc.server.port, quarkus.management.port");
                assertUser(where, b, fin, deployment);
                Map<String, String> env = b.env(fin);
                Set<String> keys = ServiceKeys.envKeys(service);
                for (String name : env.keySet()) {
                    if (ServiceKeys.isServiceKey(name)) {
                        assertTrue(keys.contains(name), where + ": ENV " + name + " is no key of services/" + service);
                    }
                }
                assertModelParts(where, b, fin, service, env);
                assertEquals(service.equals("gateway") ? "" : "tiny", modelName(env), where);
            }
        }
    }

    private static String modelName(Map<String, String> env) {
        String model = env.get(envName(Services.MODEL_PROPERTY));
        return model == null ? "" : Path.of(model).getFileName().toString();
    }

    /** The bundle parts a stage reads, as its README's dalle.model row says ("only `bundle.json` and `prior/` are read"). */
    static Set<String> readmeModelParts(String service) throws IOException {
        String readme = Files.readString(ServiceKeys.serviceDir(service).resolve("README.md"), StandardCharsets.UTF_8);
        Matcher row = Pattern.compile("\\| `dalle\\.model` \\|[^\\n]*\\(only ([^)]*) (?:is|are) read\\)").matcher(readme);
        if (!row.find()) {
            return Set.of();
        }
        Set<String> parts = new TreeSet<>();
        Matcher m = Pattern.compile("`([^`]+)`").matcher(row.group(1));
        while (m.find()) {
            parts.add(m.group(1));
        }
        return parts;
    }

    private static void assertModelParts(String where, Build b, Stage fin, String service, Map<String, String> env)
            throws IOException {
        Set<String> want = readmeModelParts(service);
        assertEquals(service.equals("gateway"), want.isEmpty(), "services/" + service + "/README.md: the parts read");
        String model = env.get(envName(Services.MODEL_PROPERTY));
        Set<String> copied = new TreeSet<>();
        for (Instruction copy : b.all(fin, "COPY")) {
            List<String> ops = copy.operands();
            if (copy.flags().containsKey("from") || !ops.get(0).startsWith("models/")) {
                continue;
            }
            assertEquals(2, ops.size(), where + " " + copy);
            Path source = ROOT.resolve(ops.get(0));
            assertTrue(Files.exists(source), where + " copies " + ops.get(0) + ", which the repository lacks");
            String part = source.getFileName() + (Files.isDirectory(source) ? "/" : "");
            assertTrue(ops.get(0).startsWith("models/tiny/"), where + ": the shipped bundle models/tiny");
            assertEquals(model + "/" + part, ops.get(1).endsWith("/") && !part.endsWith("/") ? ops.get(1) + part
                    : ops.get(1), where + ": " + copy + " lands in DALLE_MODEL");
            copied.add(part);
        }
        assertEquals(want, copied, where + ": the bundle parts in the image are those services/" + service
                + "/README.md says it reads");
        if (!want.isEmpty()) {
            assertTrue(want.contains("bundle.json"), where);
            assertEquals(cpu.configMap("dalle-model").get("path"), model, where + ": the image's DALLE_MODEL and "
                    + "deploy/'s dalle-model ConfigMap (what the Deployments pass)");
        }
    }

    private static void assertUser(String where, Build b, Stage fin, Workload workload) {
        String user = b.last(fin, "USER").map(Instruction::args).orElse(null);
        assertEquals(USER, user, where + ": a numeric non-root USER uid:gid");
        String[] ids = user.split(":");
        assertTrue(Integer.parseInt(ids[0]) > 0, where);
        assertEquals(Integer.valueOf(ids[0]), DeployTree.at(workload.podSpec(), "securityContext", "runAsUser"),
                where + ": the uid " + workload + " runs as");
        assertEquals(Integer.valueOf(ids[1]), DeployTree.at(workload.podSpec(), "securityContext", "runAsGroup"),
                where + ": the gid " + workload + " runs as");
        assertTrue(b.runs(fin).contains("useradd --system --uid " + ids[0] + " --gid " + ids[1]),
                where + ": the user exists in the image");
    }

    private static Set<String> exposed(Build b, Stage fin) {
        return b.all(fin, "EXPOSE").stream().flatMap(i -> i.words().stream()).collect(Collectors.toSet());
    }

    /** The Maven command of a build stage: the module and what it needs, packaged, tests skipped, -Pgpu for gpu. */
    private static void assertMavenBuild(String where, String runs, String module, String variant) {
        Matcher mvn = Pattern.compile("mvn [^&;]*-pl " + Pattern.quote(module) + " -am package").matcher(runs);
        assertTrue(mvn.find(), where + ": no `mvn ... -pl " + module + " -am package` in " + runs);
        String cmd = mvn.group();
        assertTrue(cmd.contains("-DskipTests"), where + ": " + cmd);
        assertEquals(variant.equals("gpu"), cmd.contains("-Pgpu"), where + ": -Pgpu exactly in the gpu variant: " + cmd);
        assertEquals(variant.equals("gpu"), runs.contains("-Pgpu"), where + ": " + runs);
    }

    @Test
    void theLibtorchImagesUnpackLibtorchAtBuildTimeInTheFlavourOfTheirVariantAndLoadItOffline() throws IOException {
        Pom pom = pom();
        Map<String, String> gpuProfile = pom.profileProperties("gpu");
        Map<String, String> flavours = new HashMap<>();
        for (Map.Entry<String, Map<String, String>> v : Map.of("cpu", pom.properties(), "gpu",
                merged(pom.properties(), gpuProfile)).entrySet()) {
            Map<String, String> p = v.getValue();
            Matcher a = NATIVE_ARTIFACT.matcher(p.get("pytorch.native.artifact"));
            assertTrue(a.matches(), v.getKey() + ": " + p.get("pytorch.native.artifact"));
            assertEquals(p.get("pytorch.native.version") + "-" + p.get("djl.version"), p.get("pytorch.jni.version"),
                    v.getKey() + ": DJL pairs libtorch L with the JNI L-<DJL version>, or it downloads one at run time");
            flavours.put(v.getKey(), a.group(1));
        }
        assertEquals("cpu", flavours.get("cpu"), "the default build (CI) is the CPU one");
        assertTrue(flavours.get("gpu").startsWith("cu"), "-Pgpu is a CUDA build: " + flavours);
        assertEquals("compile", pom.property("pytorch.native.scope"), "by default the native jar is on the classpath "
                + "(mvn -B verify, ./dalle); only the image builds make it provided");
        assertTrue(gpuProfile.keySet().containsAll(List.of("djl.version", "pytorch.jni.version",
                "pytorch.native.artifact", "pytorch.native.version")), "-Pgpu moves the whole DJL/libtorch pair: " + gpuProfile);
        assertEquals("${pytorch.native.artifact}", new Pom(ROOT.resolve("core/pom.xml")).dependency("ai.djl.pytorch",
                "${pytorch.native.artifact}").get("artifactId"), "core takes the native artifact of the build");

        String launcher = Files.readString(DOCKER.resolve("dalle"), StandardCharsets.UTF_8);
        String libtorchScript = Files.readString(DOCKER.resolve("libtorch.sh"), StandardCharsets.UTF_8);
        assertTrue(libtorchScript.contains("flavor=$flavor"), "libtorch.sh checks the jar's flavour");
        for (String image : LIBTORCH_IMAGES) {
            for (Map.Entry<String, Build> variant : builds(image).entrySet()) {
                String flavour = flavours.get(variant.getKey());
                Build b = variant.getValue();
                String where = "docker/" + image + ".Dockerfile (" + variant.getKey() + ")";
                Stage fin = b.finalStage();
                Instruction copy = b.all(fin, "COPY").stream()
                        .filter(c -> c.flags().containsKey("from") && c.operands().get(0).equals("/opt/libtorch/"))
                        .findFirst().orElseThrow(() -> new AssertionError(where + " copies no /opt/libtorch/"));
                String runs = b.runs(b.from(copy));
                assertTrue(runs.contains("-Dpytorch.native.scope=provided"), where + ": the app without the native jar");
                assertTrue(runs.contains("dependency:copy-dependencies") && runs.contains("-DincludeScope=provided")
                        && runs.contains("-DincludeGroupIds=ai.djl.pytorch"), where + ": the native jar from Maven");
                assertTrue(runs.contains("sh docker/libtorch.sh " + flavour + " /opt/libtorch "), where
                        + ": libtorch.sh unpacks the " + flavour + " build into /opt/libtorch: " + runs);
                assertTrue(runs.contains("! ls ") && runs.contains("grep pytorch-native"),
                        where + ": the build fails if a native jar is left in the app");
                Map<String, String> env = b.env(fin);
                String dest = copy.operands().get(1);
                assertEquals(dest.replaceAll("/$", ""), env.get("PYTORCH_LIBRARY_PATH"), where + ": DJL loads that copy");
                assertEquals(flavour, env.get("PYTORCH_FLAVOR"), where + ": the JNI of the unpacked flavour");
                assertEquals("true", env.get("DJL_OFFLINE"), where + ": DJL never downloads");
                assertTrue(env.get("DJL_CACHE_DIR").startsWith("/tmp/"), where + ": DJL's cache on the writable /tmp");
                String offline = image.equals("trainer") ? launcher
                        : String.join(" ", b.last(fin, "ENTRYPOINT").orElseThrow().exec());
                assertTrue(offline.contains("-Dai.djl.offline=true"), where + ": -Dai.djl.offline=true");
                String base = b.baseImage(fin);
                if (variant.getKey().equals("gpu")) {
                    String cuda = flavour.substring(2, 4) + "." + flavour.substring(4) + ".";
                    assertTrue(base.startsWith("nvidia/cuda:" + cuda), where + ": the CUDA " + cuda + "x runtime base, "
                            + "not " + base);
                    assertTrue(b.runs(fin).contains("libcudart.so"), where + ": DJL finds libcudart.so (JNA)");
                } else {
                    assertTrue(base.startsWith("eclipse-temurin:"), where + ": " + base);
                    assertFalse(env.containsKey("NVIDIA_DRIVER_CAPABILITIES"), where);
                }
            }
        }
    }

    @Test
    void theGatewayAndTheTokenizerCarryNoLibtorch() throws IOException {
        for (String image : List.of("gateway", "tokenizer")) {
            Build b = builds(image).get("cpu");
            String where = "docker/" + image + ".Dockerfile";
            String all = Files.readString(DOCKER.resolve(image + ".Dockerfile"), StandardCharsets.UTF_8);
            assertFalse(all.contains("-Pgpu") || all.contains("libtorch.sh") || all.contains("PYTORCH_"), where);
            assertTrue(b.runs(b.from(b.all(b.finalStage(), "COPY").stream().filter(c -> c.flags().containsKey("from"))
                    .findFirst().orElseThrow())).contains("grep ai.djl.pytorch"), where + ": the build fails on a "
                    + "pytorch jar in the app");
        }
        // the poms: no path brings ai.djl.pytorch into either app
        Pom gateway = new Pom(ROOT.resolve("services/gateway/pom.xml"));
        assertTrue(gateway.dependencies().stream().noneMatch(d -> d.get("groupId").equals("ai.djl.pytorch")
                || d.get("artifactId").equals("dalle-core")), "services/gateway depends on neither core nor DJL's engine");
        for (String pom : List.of("services/tokenizer/pom.xml", "services/common/pom.xml")) {
            Map<String, String> core = new Pom(ROOT.resolve(pom)).dependency("io.dallejvm", "dalle-core");
            assertEquals("ai.djl.pytorch:*", core.get("exclusions"), pom + ": dalle-core without its native engine");
        }
        Pom common = new Pom(ROOT.resolve("services/common/pom.xml"));
        for (Map<String, String> d : common.dependencies()) {
            if (d.get("groupId").equals("ai.djl.pytorch")) {
                assertEquals("test", d.get("scope"), "services/common: " + d);
            }
        }
        for (Pom parent : List.of(new Pom(ROOT.resolve("services/pom.xml")))) {
            assertTrue(parent.dependencies().stream().noneMatch(d -> d.get("groupId").equals("ai.djl.pytorch")),
                    "services/pom.xml gives every service no DJL engine");
        }
        // and where the apps are built (mvn -B verify builds them before cli's tests), their classpath says the same
        int built = 0;
        for (String service : List.of("gateway", "tokenizer")) {
            Path deps = ROOT.resolve("services/" + service + "/target/quarkus-app/quarkus-app-dependencies.txt");
            if (Files.exists(deps)) {
                built++;
                List<String> pytorch = Files.readAllLines(deps).stream().filter(l -> l.startsWith("ai.djl.pytorch")).toList();
                assertEquals(List.of(), pytorch, deps + " lists DJL's PyTorch engine or libtorch");
                try (Stream<Path> lib = Files.list(deps.resolveSibling("lib").resolve("main"))) {
                    assertEquals(List.of(), lib.map(p -> p.getFileName().toString()).filter(n -> n.contains("pytorch"))
                            .toList(), service + "'s quarkus-app/lib");
                }
            }
        }
        System.out.println("DockerImagesTest: built quarkus-apps of gateway/tokenizer checked: " + built);
    }

    @Test
    void theTrainerImageIsTheCliWithLibtorchAndTheTrainingJobRunsIt() throws IOException {
        assertEquals("dalle-cli", pomArtifactId(ROOT.resolve("cli/pom.xml")));
        String launcher = Files.readString(DOCKER.resolve("dalle"), StandardCharsets.UTF_8);
        Workload job = training.workloads().get(0);
        for (Map.Entry<String, Build> variant : builds("trainer").entrySet()) {
            Build b = variant.getValue();
            String where = "docker/trainer.Dockerfile (" + variant.getKey() + ")";
            Stage fin = b.finalStage();
            Map<String, String> copied = new LinkedHashMap<>();
            for (Instruction copy : b.all(fin, "COPY")) {
                copied.put(copy.operands().get(0), copy.operands().get(1));
                if (copy.flags().containsKey("from") && copy.operands().get(0).startsWith("/src/")) {
                    assertMavenBuild(where, b.runs(b.from(copy)), "cli", variant.getKey());
                }
            }
            // the CLI jar (cli/pom.xml's finalName) and its runtime classpath, where the launcher looks for them
            assertEquals("/opt/dalle/cli/dalle-cli.jar", copied.get("/src/cli/target/dalle-cli.jar"), where);
            assertEquals("/opt/dalle/cli/lib/", copied.get("/src/cli/target/lib/"), where);
            assertTrue(launcher.contains("-cp \"/opt/dalle/cli/dalle-cli.jar:/opt/dalle/cli/lib/*\" dalle.cli.DalleCommand"),
                    "docker/dalle runs the copied CLI");
            assertEquals("/usr/local/bin/dalle", copied.get("docker/dalle"), where + ": dalle on the PATH (train.sh calls it)");
            assertEquals(List.of("/usr/local/bin/dalle"), b.last(fin, "ENTRYPOINT").orElseThrow().exec(), where);
            assertTrue(copied.keySet().stream().noneMatch(s -> s.startsWith("models/")), where + ": no bundle inside");
            assertEquals(Set.of(DeployTree.env(job.container().raw(), "DALLE_PORT")), exposed(b, fin),
                    where + ": EXPOSE the collectives port the Job uses");
            assertUser(where, b, fin, job);
        }
        assertEquals("dalle-trainer", job.container().imageRef().shortName(), job + " runs the trainer image");
        // every variable the Job sets is read by its launch script, the image's launcher, or DJL
        String script = training.configMap("dalle-train-script").get("train.sh");
        for (String name : job.container().env().keySet()) {
            assertTrue(name.startsWith("DJL_") || script.contains(name) || launcher.contains(name),
                    job + " sets " + name + ", which neither train.sh nor docker/dalle reads");
        }
    }

    @Test
    void composeRunsTheBrokerTheTopicsAndTheFiveServicesWithTheImagesDeployNames() throws IOException {
        Map<String, Object> services = Kustomize.map(compose.get("services"));
        Set<String> want = new TreeSet<>(Services.SERVICES.keySet());
        want.addAll(List.of("kafka", "topics"));
        assertEquals(want, new TreeSet<>(services.keySet()), "docker/compose.yaml services");

        Map<String, Object> kafka = Kustomize.map(services.get("kafka"));
        Map<String, String> kafkaEnv = Kustomize.stringMap(kafka.get("environment"));
        String bootstrap = Arrays.stream(kafkaEnv.get("KAFKA_ADVERTISED_LISTENERS").split(","))
                .filter(l -> l.startsWith("PLAINTEXT://")).map(l -> l.substring("PLAINTEXT://".length()))
                .findFirst().orElseThrow(() -> new AssertionError("no PLAINTEXT listener for the compose network"));
        assertTrue(bootstrap.startsWith("kafka:"), "the broker advertises itself by its compose service name: " + bootstrap);
        assertNotNull(kafka.get("healthcheck"), "the broker has a health check the others wait for");

        Map<String, Object> topics = Kustomize.map(services.get("topics"));
        assertEquals(deployedImage(cpu, "trainer").toString(), topics.get("image"), "topics runs the trainer image");
        List<?> command = (List<?>) topics.get("command");
        assertEquals(List.of("topics", "apply"), command.subList(0, 2), "topics: dalle topics apply");
        assertEquals(bootstrap, command.get(command.indexOf("--bootstrap") + 1), "topics: the broker");
        assertEquals("service_healthy", DeployTree.str(topics, "depends_on", "kafka", "condition"));
        assertBuild(topics, "trainer");

        for (String service : Services.SERVICES.keySet()) {
            Map<String, Object> s = Kustomize.map(services.get(service));
            String where = "docker/compose.yaml " + service;
            assertEquals(deployedImage(cpu, service).toString(), s.get("image"), where + ": the image overlays/cpu runs");
            assertBuild(s, service);
            Map<String, String> env = Kustomize.stringMap(s.get("environment"));
            Set<String> keys = ServiceKeys.envKeys(service);
            for (String name : env.keySet()) {
                if (ServiceKeys.isServiceKey(name)) {
                    assertTrue(keys.contains(name), where + ": " + name + " is no key of services/" + service);
                }
            }
            assertEquals(bootstrap, env.get(envName(Services.KAFKA_PROPERTY)), where + ": the broker");
            Build image = builds(service).get("cpu");
            Map<String, String> imageEnv = image.env(image.finalStage());
            assertEquals(imageEnv.get(envName(Services.MODEL_PROPERTY)), env.get(envName(Services.MODEL_PROPERTY)),
                    where + ": DALLE_MODEL is the bundle in the image (none for the gateway)");
            String http = ServiceKeys.applicationProperties(service).getProperty(Services.MANAGEMENT_PORT_PROPERTY);
            String check = String.join(" ", ((List<?>) DeployTree.at(s, "healthcheck", "test")).stream()
                    .map(String::valueOf).toList());
            assertTrue(check.contains("127.0.0.1/" + http) && check.contains(Services.READY_PATH),
                    where + ": the health check asks " + Services.READY_PATH + " on port " + http + ": " + check);
            assertEquals(true, s.get("read_only"), where + ": read-only root filesystem, as on Kubernetes");
            assertTrue(((List<?>) s.get("tmpfs")).contains("/tmp"), where + ": /tmp writable");
            Map<String, Object> dependsOn = Kustomize.map(s.get("depends_on"));
            if (service.equals("gateway")) {
                Set<String> stages = new TreeSet<>(Services.GATEWAY_UPSTREAM_PROPERTIES.keySet());
                assertEquals(stages, new TreeSet<>(dependsOn.keySet()), where + ": waits for the stages");
                stages.forEach(st -> assertEquals("service_healthy", DeployTree.str(dependsOn, st, "condition"), where));
                for (Map.Entry<String, String> e : Services.GATEWAY_UPSTREAM_PROPERTIES.entrySet()) {
                    String stageGrpc = ServiceKeys.applicationProperties(e.getKey()).getProperty(Services.GRPC_PORT_PROPERTY);
                    assertEquals("dns:///" + e.getKey() + ":" + stageGrpc, env.get(envName(e.getValue())),
                            where + ": every replica of compose service " + e.getKey() + " (dns:///, round robin)");
                    assertTrue(exposed(builds(e.getKey()).get("cpu"), builds(e.getKey()).get("cpu").finalStage())
                            .contains(stageGrpc), e.getKey() + " exposes " + stageGrpc);
                }
                Set<String> published = ((List<?>) s.get("ports")).stream()
                        .map(p -> String.valueOf(p).substring(String.valueOf(p).lastIndexOf(':') + 1))
                        .collect(Collectors.toSet());
                Set<String> api = new TreeSet<>(exposed(image, image.finalStage()));
                api.remove(ServiceKeys.applicationProperties(service).getProperty(Services.MANAGEMENT_PORT_PROPERTY));
                assertEquals(api, published, where + ": publishes HTTP and gRPC, not the management port");
            } else {
                assertEquals("service_completed_successfully", DeployTree.str(dependsOn, "topics", "condition"),
                        where + ": starts after the topics exist");
                assertNull(s.get("ports"), where + ": a stage publishes no port (it would clash on --scale)");
                assertEquals(cpu.deployment(service).container().envValue("DALLE_GRPC_MAX_CONNECTION_AGE"),
                        env.get("DALLE_GRPC_MAX_CONNECTION_AGE"), where + ": the server max connection age deploy/ sets");
            }
        }
    }

    @Test
    void theGpuComposeOverrideRunsTheGpuOverlaysImagesWithAGpuEach() {
        Map<String, Object> services = Kustomize.map(composeGpu.get("services"));
        assertEquals(DeployRenderTest.GPU_STAGES, services.keySet(), "docker/compose.gpu.yaml: the model stages");
        for (String stage : DeployRenderTest.GPU_STAGES) {
            Map<String, Object> s = Kustomize.map(services.get(stage));
            assertEquals(deployedImage(gpu, stage).toString(), s.get("image"), stage + ": the image overlays/gpu runs");
            assertEquals("gpu", DeployTree.str(s, "build", "args", "VARIANT"), stage + ": built as the GPU variant");
            List<Map<String, Object>> devices = DeployTree.list(s, "deploy", "resources", "reservations", "devices");
            assertEquals(1, devices.size(), stage);
            assertEquals("nvidia", devices.get(0).get("driver"), stage);
            assertEquals(1, devices.get(0).get("count"), stage);
            assertEquals(List.of("gpu"), devices.get(0).get("capabilities"), stage);
        }
    }

    private static void assertBuild(Map<String, Object> service, String image) {
        assertEquals(ROOT, DOCKER.resolve(DeployTree.str(service, "build", "context")).normalize(),
                image + ": the build context is the repository root");
        assertEquals("docker/" + image + ".Dockerfile", DeployTree.str(service, "build", "dockerfile"), image);
    }

    @Test
    void theBuildContextKeepsBuildOutputsOutAndEverythingTheImagesCopyIn() throws IOException {
        List<String> ignore = Files.readAllLines(ROOT.resolve(".dockerignore")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertTrue(ignore.containsAll(List.of("**/target", ".git")), ".dockerignore: " + ignore);
        Set<String> fromContext = new LinkedHashSet<>();
        for (String image : IMAGES) {
            for (Build b : builds(image).values()) {
                for (Stage s : b.stages()) {
                    for (Instruction copy : s.all("COPY")) {
                        if (!copy.flags().containsKey("from")) {
                            List<String> ops = copy.operands();
                            fromContext.addAll(ops.subList(0, ops.size() - 1));
                        }
                    }
                }
            }
        }
        assertTrue(fromContext.contains("."), "the build stages copy the sources");
        for (String source : fromContext) {
            if (source.equals(".")) {
                continue;
            }
            assertTrue(Files.exists(ROOT.resolve(source)), "a Dockerfile copies " + source + ", which does not exist");
            for (String pattern : ignore) {
                String p = pattern.replace("**/", "");
                assertFalse(source.equals(p) || source.startsWith(p + "/") || source.contains("/" + p + "/"),
                        ".dockerignore's " + pattern + " keeps out " + source + ", which an image copies");
            }
        }
    }

    @Test
    void theBuildCommandsInDockerReadmeTagTheImagesThatDeployRuns() throws IOException {
        String readme = Files.readString(DOCKER.resolve("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("docker build -f docker/(\\w+)\\.Dockerfile +(--build-arg VARIANT=gpu +)?-t (\\S+) \\.")
                .matcher(readme);
        Set<String> seen = new TreeSet<>();
        while (m.find()) {
            String image = m.group(1);
            boolean gpuVariant = m.group(2) != null;
            assertTrue(IMAGES.contains(image), m.group());
            ImageRef deployed = gpuVariant && !image.equals("trainer") ? deployedImage(gpu, image) : deployedImage(cpu, image);
            if (gpuVariant && image.equals("trainer")) {
                deployed = new ImageRef(deployed.repository(), deployed.tag() + "-gpu", null);
            }
            assertEquals(deployed.toString(), m.group(3), "docker/README.md: " + m.group());
            seen.add(image + (gpuVariant ? "-gpu" : ""));
        }
        Set<String> want = new TreeSet<>(IMAGES);
        LIBTORCH_IMAGES.forEach(i -> want.add(i + "-gpu"));
        assertEquals(want, seen, "docker/README.md shows how to build every image and variant");
    }

    static String registry() {
        return deployedImage(cpu, "gateway").registry();
    }

    // ---- Maven poms ------------------------------------------------------------------------------------------------

    static Pom pom() {
        return new Pom(ROOT.resolve("pom.xml"));
    }

    static String pomArtifactId(Path pom) {
        return new Pom(pom).child(new Pom(pom).project, "artifactId");
    }

    private static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new HashMap<>(a);
        m.putAll(b);
        return m;
    }

    /** The few things of a pom these tests read. */
    static final class Pom {
        final Path file;
        final Element project;

        Pom(Path file) {
            this.file = file;
            try {
                Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
                this.project = d.getDocumentElement();
            } catch (Exception e) {
                throw new AssertionError("cannot read " + file + ": " + e.getMessage(), e);
            }
        }

        String property(String name) {
            return properties().get(name);
        }

        Map<String, String> properties() {
            return children(first(project, "properties"));
        }

        Map<String, String> profileProperties(String id) {
            Element profiles = first(project, "profiles");
            for (Element p : elements(profiles, "profile")) {
                if (id.equals(child(p, "id"))) {
                    return children(first(p, "properties"));
                }
            }
            throw new AssertionError(file + " has no profile " + id);
        }

        List<String> modules() {
            return elements(first(project, "modules"), "module").stream().map(Node::getTextContent).map(String::strip).toList();
        }

        /** The project's direct dependencies: groupId, artifactId, scope, exclusions (g:a joined by ','). */
        List<Map<String, String>> dependencies() {
            List<Map<String, String>> deps = new ArrayList<>();
            for (Element d : elements(first(project, "dependencies"), "dependency")) {
                Map<String, String> m = new LinkedHashMap<>();
                m.put("groupId", child(d, "groupId"));
                m.put("artifactId", child(d, "artifactId"));
                m.put("scope", child(d, "scope") == null ? "compile" : child(d, "scope"));
                m.put("type", child(d, "type") == null ? "jar" : child(d, "type"));
                m.put("exclusions", String.join(",", elements(first(d, "exclusions"), "exclusion").stream()
                        .map(x -> child(x, "groupId") + ":" + child(x, "artifactId")).toList()));
                deps.add(m);
            }
            return deps;
        }

        Map<String, String> dependency(String groupId, String artifactId) {
            return dependencies().stream().filter(d -> d.get("groupId").equals(groupId)
                            && d.get("artifactId").equals(artifactId) && d.get("type").equals("jar")).findFirst()
                    .orElseThrow(() -> new AssertionError(file + " has no dependency " + groupId + ":" + artifactId));
        }

        String child(Element e, String name) {
            Element c = first(e, name);
            return c == null ? null : c.getTextContent().strip();
        }

        private static Element first(Element parent, String name) {
            if (parent == null) {
                return null;
            }
            List<Element> l = elements(parent, name);
            return l.isEmpty() ? null : l.get(0);
        }

        private static List<Element> elements(Element parent, String name) {
            List<Element> l = new ArrayList<>();
            if (parent == null) {
                return l;
            }
            NodeList nodes = parent.getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                if (nodes.item(i) instanceof Element e && e.getTagName().equals(name)) {
                    l.add(e);
                }
            }
            return l;
        }

        private static Map<String, String> children(Element parent) {
            Map<String, String> m = new LinkedHashMap<>();
            if (parent != null) {
                NodeList nodes = parent.getChildNodes();
                for (int i = 0; i < nodes.getLength(); i++) {
                    if (nodes.item(i) instanceof Element e) {
                        m.put(e.getTagName(), e.getTextContent().strip());
                    }
                }
            }
            return m;
        }
    }
}
