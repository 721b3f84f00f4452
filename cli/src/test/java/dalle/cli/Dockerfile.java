package dalle.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A Dockerfile read the way the builder reads it, for tests on a machine without a Docker engine: comments dropped,
 * continuation lines joined, one instruction per logical line, stages split at {@code FROM}, global {@code ARG}s
 * (before the first {@code FROM}) substituted into {@code FROM} lines for a given set of build args, so that
 * {@code FROM build-${VARIANT} AS build} follows the variant as BuildKit would.
 */
final class Dockerfile {

    /** One instruction: its keyword (upper case), its arguments as written, its first line. */
    record Instruction(String keyword, String args, int line) {

        /** Leading {@code --name=value} flags (COPY --from, FROM --platform, RUN --mount). */
        Map<String, String> flags() {
            Map<String, String> f = new LinkedHashMap<>();
            for (String w : words()) {
                if (!w.startsWith("--")) {
                    break;
                }
                int eq = w.indexOf('=');
                f.put(eq < 0 ? w.substring(2) : w.substring(2, eq), eq < 0 ? "" : w.substring(eq + 1));
            }
            return f;
        }

        /** The arguments split at whitespace, flags included. */
        List<String> words() {
            return Arrays.stream(args.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
        }

        /** The arguments after the flags. */
        List<String> operands() {
            return words().stream().dropWhile(w -> w.startsWith("--")).toList();
        }

        /** The exec form of ENTRYPOINT / CMD (a JSON array of strings). */
        @SuppressWarnings("unchecked")
        List<String> exec() {
            Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(args);
            if (!(o instanceof List<?>)) {
                throw new AssertionError("line " + line + ": " + keyword + " is not in exec form: " + args);
            }
            return (List<String>) o;
        }

        /** ENV's key=value pairs (the form these Dockerfiles use). */
        Map<String, String> env() {
            Map<String, String> m = new LinkedHashMap<>();
            for (String w : words()) {
                int eq = w.indexOf('=');
                if (eq <= 0) {
                    throw new AssertionError("line " + line + ": ENV " + args + " is not key=value");
                }
                m.put(w.substring(0, eq), w.substring(eq + 1));
            }
            return m;
        }

        @Override
        public String toString() {
            return "line " + line + ": " + keyword + " " + args;
        }
    }

    /** A build stage: its FROM (image or stage, as written) and its instructions after FROM. */
    record Stage(int index, String from, String name, Instruction fromInstruction, List<Instruction> body) {

        List<Instruction> all(String keyword) {
            return body.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        @Override
        public String toString() {
            return "stage " + (name == null ? "#" + index : name) + " (FROM " + from + ")";
        }
    }

    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)");

    final Path file;
    /** ARGs declared before the first FROM, with their defaults (null where none). */
    final Map<String, String> globalArgs;
    final List<Stage> stages;

    private Dockerfile(Path file, Map<String, String> globalArgs, List<Stage> stages) {
        this.file = file;
        this.globalArgs = globalArgs;
        this.stages = stages;
    }

    static Dockerfile parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = null;
        int start = 0;
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current == null)) {
                continue; // comments (also inside continued instructions) and blank lines
            }
            if (current == null) {
                current = new StringBuilder();
                start = n + 1;
            }
            boolean continues = line.endsWith("\\");
            current.append(continues ? line.substring(0, line.length() - 1) : line).append(' ');
            if (!continues) {
                String text = current.toString().strip();
                int sp = text.indexOf(' ');
                instructions.add(new Instruction(text.substring(0, sp < 0 ? text.length() : sp).toUpperCase(Locale.ROOT),
                        sp < 0 ? "" : text.substring(sp + 1).strip(), start));
                current = null;
            }
        }
        if (current != null) {
            throw new AssertionError(file + ": ends inside a continued instruction");
        }
        Map<String, String> globalArgs = new LinkedHashMap<>();
        List<Stage> stages = new ArrayList<>();
        List<Instruction> body = null;
        for (Instruction i : instructions) {
            if (i.keyword().equals("FROM")) {
                List<String> ops = i.operands();
                String name = ops.size() == 3 && ops.get(1).equalsIgnoreCase("AS") ? ops.get(2) : null;
                if (!(ops.size() == 1 || name != null)) {
                    throw new AssertionError(file + " " + i + ": FROM <image> [AS <name>]");
                }
                body = new ArrayList<>();
                stages.add(new Stage(stages.size(), ops.get(0), name, i, body));
            } else if (body == null) {
                if (!i.keyword().equals("ARG")) {
                    throw new AssertionError(file + " " + i + ": only ARG may come before the first FROM");
                }
                String a = i.args();
                int eq = a.indexOf('=');
                globalArgs.put(eq < 0 ? a : a.substring(0, eq), eq < 0 ? null : a.substring(eq + 1));
            } else {
                body.add(i);
            }
        }
        if (stages.isEmpty()) {
            throw new AssertionError(file + " has no FROM");
        }
        return new Dockerfile(file, globalArgs, stages);
    }

    /** The stages as built with these build args: global ARGs substituted into every FROM. */
    Build resolve(Map<String, String> buildArgs) {
        Map<String, String> values = new LinkedHashMap<>(globalArgs);
        buildArgs.forEach((k, v) -> {
            if (!globalArgs.containsKey(k)) {
                throw new AssertionError(file + " declares no ARG " + k + " before its first FROM");
            }
            values.put(k, v);
        });
        List<Stage> resolved = new ArrayList<>();
        for (Stage s : stages) {
            Matcher m = VAR.matcher(s.from());
            StringBuilder from = new StringBuilder();
            while (m.find()) {
                String var = m.group(1) != null ? m.group(1) : m.group(2);
                String v = values.get(var);
                if (v == null) {
                    throw new AssertionError(file + " " + s.fromInstruction() + ": no value for " + var);
                }
                m.appendReplacement(from, Matcher.quoteReplacement(v));
            }
            m.appendTail(from);
            resolved.add(new Stage(s.index(), from.toString(), s.name(), s.fromInstruction(), s.body()));
        }
        return new Build(this, resolved);
    }

    /** The stages of one build. */
    record Build(Dockerfile file, List<Stage> stages) {

        /** The stage that is built without --target: the last. */
        Stage finalStage() {
            return stages.get(stages.size() - 1);
        }

        Optional<Stage> stage(String nameOrIndex) {
            return stages.stream().filter(s -> nameOrIndex.equals(s.name()) || nameOrIndex.equals(String.valueOf(s.index())))
                    .findFirst();
        }

        /** The stage and the stages it is FROM, nearest first. */
        List<Stage> chain(Stage s) {
            List<Stage> chain = new ArrayList<>();
            for (Stage at = s; at != null; at = stage(at.from()).orElse(null)) {
                if (chain.contains(at)) {
                    throw new AssertionError(file.file + ": FROM cycle at " + at);
                }
                chain.add(at);
            }
            return chain;
        }

        /** The image a stage finally builds on (its chain's FROM that names no stage). */
        String baseImage(Stage s) {
            List<Stage> chain = chain(s);
            return chain.get(chain.size() - 1).from();
        }

        /** Every instruction of a keyword in a stage's chain, the base's first. */
        List<Instruction> all(Stage s, String keyword) {
            List<Stage> chain = new ArrayList<>(chain(s));
            java.util.Collections.reverse(chain);
            return chain.stream().flatMap(st -> st.all(keyword).stream()).toList();
        }

        /** The environment a stage's image has from its ENV lines (the base images' own ENV aside). */
        Map<String, String> env(Stage s) {
            Map<String, String> env = new LinkedHashMap<>();
            all(s, "ENV").forEach(i -> env.putAll(i.env()));
            return env;
        }

        /** The last instruction of a keyword in a stage's chain, e.g. USER or ENTRYPOINT. */
        Optional<Instruction> last(Stage s, String keyword) {
            List<Instruction> all = all(s, keyword);
            return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
        }

        /** The stage a COPY --from names. */
        Stage from(Instruction copy) {
            String from = copy.flags().get("from");
            return stage(from).orElseThrow(() -> new AssertionError(file.file + " " + copy + ": --from=" + from
                    + " names no stage"));
        }

        /** The RUN commands that built a stage (its chain's, the base's first), joined. */
        String runs(Stage s) {
            return String.join("\n", all(s, "RUN").stream().map(Instruction::args).toList());
        }

        /** Images (not stages) named by FROM in every stage. */
        List<String> externalImages() {
            return stages.stream().map(Stage::from).filter(f -> stage(f).isEmpty()).toList();
        }
    }
}
