package dalle.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A kustomization as Kubernetes would receive it: {@code kubectl kustomize DIR}, parsed into typed views of the
 * objects the deploy tests look at (workloads, containers, Services, ConfigMaps). Rendering needs {@code kubectl} on
 * the PATH (CI has it); without it the tests fail and say so, they do not skip.
 */
final class Kustomize {

    private Kustomize() {
    }

    /** Any rendered object. */
    record Obj(String kind, String name, String namespace, Map<String, Object> map) {
        @Override
        public String toString() {
            return kind + " " + namespace + "/" + name;
        }
    }

    /** A container of a workload's pod template. */
    record Container(String name, String image, Map<String, Map<String, Object>> env, List<String> envFromConfigMaps,
            Map<String, Integer> ports, Map<String, Object> raw) {

        /** A plain env value ({@code value:}), or null (absent or {@code valueFrom}). */
        String envValue(String key) {
            Map<String, Object> e = env.get(key);
            return e == null || e.get("value") == null ? null : String.valueOf(e.get("value"));
        }

        /** The container port a Service's targetPort (a name or a number) points at, or null. */
        Integer port(Object targetPort) {
            if (targetPort instanceof Integer n) {
                return ports.containsValue(n) ? n : null;
            }
            return ports.get(String.valueOf(targetPort));
        }

        ImageRef imageRef() {
            return ImageRef.parse(image);
        }

        /** nvidia.com/gpu in the limits (what the scheduler and the device plugin act on). */
        int gpus() {
            Object n = DeployTree.at(raw, "resources", "limits", "nvidia.com/gpu");
            return n == null ? 0 : Integer.parseInt(n.toString());
        }
    }

    /** A Deployment or Job: its pod template's labels, spec and containers. */
    record Workload(Obj obj, Map<String, String> podLabels, Map<String, Object> podSpec, List<Container> containers) {
        String name() {
            return obj.name();
        }

        Container container() {
            return containers.get(0);
        }

        boolean selectedBy(Map<String, String> selector) {
            return !selector.isEmpty() && podLabels.entrySet().containsAll(selector.entrySet());
        }

        @Override
        public String toString() {
            return obj.toString();
        }
    }

    record ServicePort(String name, int port, Object targetPort) {}

    /** A Service: selector, ports, and whether it is headless. */
    record Service(Obj obj, Map<String, String> selector, boolean headless, boolean publishNotReadyAddresses,
            List<ServicePort> ports) {
        String name() {
            return obj.name();
        }

        @Override
        public String toString() {
            return obj.toString();
        }
    }

    /** An image reference: {@code repository[:tag][@digest]}. */
    record ImageRef(String repository, String tag, String digest) {
        private static final Pattern REF =
                Pattern.compile("(?<repo>[^@]+?)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*))?(?:@(?<digest>sha256:[0-9a-f]{64}))?");

        static ImageRef parse(String ref) {
            Matcher m = REF.matcher(ref);
            String repo = m.matches() ? m.group("repo") : "";
            if (repo.isEmpty() || repo.substring(repo.lastIndexOf('/') + 1).contains(":")) {
                throw new AssertionError("not an image reference: " + ref);
            }
            return new ImageRef(m.group("repo"), m.group("tag"), m.group("digest"));
        }

        /** The last path segment of the repository, e.g. dalle-sampler. */
        String shortName() {
            return repository.substring(repository.lastIndexOf('/') + 1);
        }

        /** What comes before the short name (registry and path), or "" for a bare name. */
        String registry() {
            int slash = repository.lastIndexOf('/');
            return slash < 0 ? "" : repository.substring(0, slash);
        }

        @Override
        public String toString() {
            return repository + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
        }
    }

    /** The objects one kustomization renders to. */
    record Rendered(String dir, List<Obj> objects) {

        List<Obj> all(String kind) {
            return objects.stream().filter(o -> kind.equals(o.kind())).toList();
        }

        List<Workload> deployments() {
            return all("Deployment").stream().map(Kustomize::workload).toList();
        }

        List<Workload> workloads() {
            List<Workload> w = new ArrayList<>(deployments());
            all("Job").stream().map(Kustomize::workload).forEach(w::add);
            return w;
        }

        Workload deployment(String name) {
            return deployments().stream().filter(d -> d.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError(dir + " renders no Deployment " + name));
        }

        List<Service> services() {
            return all("Service").stream().map(Kustomize::service).toList();
        }

        Optional<Service> service(String name) {
            return services().stream().filter(s -> s.name().equals(name)).findFirst();
        }

        /** A ConfigMap's data, or null when the render has no such ConfigMap. */
        Map<String, String> configMap(String name) {
            return all("ConfigMap").stream().filter(o -> o.name().equals(name)).findFirst()
                    .map(o -> stringMap(DeployTree.at(o.map(), "data"))).orElse(null);
        }

        /** Every container image the render runs. */
        List<ImageRef> images() {
            return workloads().stream().flatMap(w -> w.containers().stream()).map(Container::imageRef).toList();
        }

        @Override
        public String toString() {
            return "kubectl kustomize " + dir;
        }
    }

    /** Renders the kustomization in {@code dir} (e.g. deploy/overlays/gpu). */
    static Rendered render(Path dir) {
        ProcessBuilder pb = new ProcessBuilder("kubectl", "kustomize", dir.toString());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot run `kubectl kustomize " + dir + "` (" + e.getMessage() + "): the deploy "
                    + "tests render every kustomization with kubectl, which CI and these machines have; install it", e);
        }
        try {
            p.getOutputStream().close();
            // stdout can exceed the pipe buffer: read both streams before waiting
            var err = new java.io.ByteArrayOutputStream();
            Thread drain = new Thread(() -> {
                try {
                    p.getErrorStream().transferTo(err);
                } catch (IOException ignored) {
                    // the exit code says enough
                }
            });
            drain.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl kustomize " + dir + " did not finish in 120 s");
            }
            drain.join();
            if (p.exitValue() != 0) {
                throw new AssertionError("kubectl kustomize " + dir + " failed (" + p.exitValue() + "): "
                        + err.toString(StandardCharsets.UTF_8));
            }
            return new Rendered(dir.toString(), parse(out));
        } catch (IOException e) {
            throw new AssertionError("kubectl kustomize " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static List<Obj> parse(String yamlText) {
        List<Obj> objects = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yamlText)) {
            if (doc == null) {
                continue;
            }
            Map<String, Object> map = map(doc);
            objects.add(new Obj((String) map.get("kind"), DeployTree.str(map, "metadata", "name"),
                    DeployTree.str(map, "metadata", "namespace"), map));
        }
        return objects;
    }

    static Workload workload(Obj o) {
        Map<String, Object> template = map(DeployTree.at(o.map(), "spec", "template"));
        Map<String, Object> podSpec = map(template.get("spec"));
        List<Container> containers = new ArrayList<>();
        for (Map<String, Object> c : DeployTree.list(podSpec, "containers")) {
            Map<String, Map<String, Object>> env = new LinkedHashMap<>();
            DeployTree.list(c, "env").forEach(e -> env.put((String) e.get("name"), e));
            List<String> envFrom = DeployTree.list(c, "envFrom").stream()
                    .map(e -> DeployTree.str(e, "configMapRef", "name")).filter(n -> n != null).toList();
            Map<String, Integer> ports = new LinkedHashMap<>();
            DeployTree.list(c, "ports").forEach(p -> ports.put(String.valueOf(p.get("name")), (Integer) p.get("containerPort")));
            containers.add(new Container((String) c.get("name"), (String) c.get("image"), env, envFrom, ports, c));
        }
        if (containers.isEmpty()) {
            throw new AssertionError(o + " has no containers");
        }
        return new Workload(o, stringMap(DeployTree.at(template, "metadata", "labels")), podSpec, containers);
    }

    static Service service(Obj o) {
        List<ServicePort> ports = DeployTree.list(o.map(), "spec", "ports").stream()
                .map(p -> new ServicePort(String.valueOf(p.get("name")), (Integer) p.get("port"),
                        p.get("targetPort") == null ? p.get("port") : p.get("targetPort")))
                .toList();
        return new Service(o, stringMap(DeployTree.at(o.map(), "spec", "selector")),
                "None".equals(DeployTree.str(o.map(), "spec", "clusterIP")),
                Boolean.TRUE.equals(DeployTree.at(o.map(), "spec", "publishNotReadyAddresses")), ports);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map<?, ?>)) {
            throw new AssertionError("expected a mapping, got " + o);
        }
        return (Map<String, Object>) o;
    }

    static Map<String, String> stringMap(Object o) {
        Map<String, String> m = new LinkedHashMap<>();
        if (o instanceof Map<?, ?> in) {
            in.forEach((k, v) -> m.put(String.valueOf(k), String.valueOf(v)));
        }
        return m;
    }
}
