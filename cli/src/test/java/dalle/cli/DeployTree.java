package dalle.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Every YAML document under {@code deploy/}, parsed (SnakeYAML, safe constructor), with small tree accessors. */
final class DeployTree {

    /**
     * One YAML document.
     *
     * @param file the file, relative to {@code deploy/}, e.g. {@code base/sampler.yaml}
     * @param map the document's top-level mapping
     */
    record Doc(String file, Map<String, Object> map) {
        String kind() {
            return (String) map.get("kind");
        }

        String name() {
            return str(map, "metadata", "name");
        }

        @Override
        public String toString() {
            return file + " (" + kind() + " " + name() + ")";
        }
    }

    final Path root;
    final List<Doc> docs;

    private DeployTree(Path root, List<Doc> docs) {
        this.root = root;
        this.docs = List.copyOf(docs);
    }

    /** Loads every {@code *.yaml} / {@code *.yml} under the checkout's {@code deploy/}. */
    static DeployTree load() {
        Path deploy = repositoryRoot().resolve("deploy");
        List<Doc> docs = new ArrayList<>();
        try (Stream<Path> files = Files.walk(deploy)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted().toList()) {
                String rel = deploy.relativize(f).toString().replace('\\', '/');
                Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
                for (Object doc : yaml.loadAll(Files.readString(f, StandardCharsets.UTF_8))) {
                    if (doc == null) {
                        continue;
                    }
                    if (!(doc instanceof Map<?, ?> m)) {
                        throw new AssertionError(rel + ": a document is a " + doc.getClass().getSimpleName()
                                + ", not a mapping");
                    }
                    @SuppressWarnings("unchecked")
                    Map<String, Object> map = (Map<String, Object>) m;
                    docs.add(new Doc(rel, map));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DeployTree(deploy, docs);
    }

    /** Documents of a kind in files under a folder of deploy/ ("" = anywhere). */
    List<Doc> all(String kind, String folder) {
        return docs.stream().filter(d -> kind.equals(d.kind()) && d.file().startsWith(folder)).toList();
    }

    Optional<Doc> find(String kind, String folder, String name) {
        return all(kind, folder).stream().filter(d -> name.equals(d.name())).findFirst();
    }

    /** The node at a path of mapping keys, or null where a key is missing. */
    static Object at(Object node, String... path) {
        Object n = node;
        for (String key : path) {
            if (!(n instanceof Map<?, ?> m)) {
                return null;
            }
            n = m.get(key);
        }
        return n;
    }

    static String str(Object node, String... path) {
        Object v = at(node, path);
        return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object node, String... path) {
        Object v = at(node, path);
        return v == null ? List.of() : (List<Map<String, Object>>) v;
    }

    /** The first container of a workload's pod template (Deployment or Job). */
    static Map<String, Object> container(Doc workload) {
        List<Map<String, Object>> cs = list(workload.map(), "spec", "template", "spec", "containers");
        if (cs.isEmpty()) {
            throw new AssertionError(workload + " has no containers");
        }
        return cs.get(0);
    }

    /** A container's env value by name, or null. */
    static String env(Map<String, Object> container, String name) {
        return list(container, "env").stream().filter(e -> name.equals(e.get("name")))
                .map(e -> String.valueOf(e.get("value"))).findFirst().orElse(null);
    }

    /** The MicroProfile Config env form of a property: upper case, every other character '_'. */
    static String envName(String property) {
        return property.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /** The checkout: the first folder from the working directory (cli/, under surefire) up with deploy/. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no folder with deploy/ and pom.xml above " + Path.of("").toAbsolutePath());
    }
}
