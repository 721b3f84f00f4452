package dalle.v1;

import com.google.protobuf.Descriptors.FileDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A line-based reader of the module's {@code .proto} sources: every declaration (service, rpc,
 * message, enum, oneof, field, enum value) with the comment lines directly above it, and the
 * generated descriptor of each file.
 *
 * <p>Comments count only as {@code //} lines immediately above the declaration (no blank line
 * between), which is what protoc attaches as the declaration's leading comment.
 */
final class ProtoSource {

    /** The proto source root, relative to the module directory (surefire's working directory). */
    static final Path ROOT = Path.of("src", "main", "proto");

    /** One declaration in a .proto file. */
    record Declaration(Path file, int line, String kind, String name, String scope, List<String> comment) {
        @Override
        public String toString() {
            return file.getFileName() + ":" + line + " " + kind + " " + name;
        }
    }

    private static final Pattern NAMED = Pattern.compile("^(service|rpc|message|enum|oneof)\\s+(\\w+)");
    private static final Pattern FIELD = Pattern.compile(
            "^(?:(?:repeated|optional)\\s+)?(?:map\\s*<[^>]+>|[\\w.]+)\\s+(\\w+)\\s*=\\s*\\d+");
    private static final Pattern ENUM_VALUE = Pattern.compile("^([A-Z][A-Z0-9_]*)\\s*=\\s*-?\\d+");
    private static final List<String> NOT_DECLARATIONS = List.of("syntax", "package", "import", "option", "reserved");

    private ProtoSource() {}

    /** Every .proto file under {@link #ROOT}, sorted; fails if there is none. */
    static List<Path> files() {
        if (!Files.isDirectory(ROOT)) {
            throw new IllegalStateException(ROOT.toAbsolutePath() + " is not a directory: run from the proto module");
        }
        try (Stream<Path> walk = Files.walk(ROOT)) {
            List<Path> files = walk.filter(p -> p.toString().endsWith(".proto")).sorted().toList();
            if (files.isEmpty()) {
                throw new IllegalStateException("no .proto file under " + ROOT.toAbsolutePath());
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The declarations of one file's lines, in order, each with its leading comment (possibly empty). */
    static List<Declaration> declarations(Path file, List<String> lines) {
        List<Declaration> found = new ArrayList<>();
        String service = "";
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.startsWith("//") || NOT_DECLARATIONS.stream().anyMatch(w -> line.startsWith(w + " "))) {
                continue;
            }
            String kind;
            String name;
            Matcher named = NAMED.matcher(line);
            Matcher field = FIELD.matcher(line);
            Matcher value = ENUM_VALUE.matcher(line);
            if (named.find()) {
                kind = named.group(1);
                name = named.group(2);
            } else if (value.find()) {
                kind = "value";
                name = value.group(1);
            } else if (field.find()) {
                kind = "field";
                name = field.group(1);
            } else {
                continue;
            }
            if (kind.equals("service")) {
                service = name;
            }
            found.add(new Declaration(file, i + 1, kind, name, kind.equals("rpc") ? service : "", commentAbove(lines, i)));
        }
        return found;
    }

    /** The text of the contiguous {@code //} lines directly above line {@code index}, top first. */
    private static List<String> commentAbove(List<String> lines, int index) {
        List<String> comment = new ArrayList<>();
        for (int j = index - 1; j >= 0 && lines.get(j).trim().startsWith("//"); j--) {
            comment.add(0, lines.get(j).trim().substring(2).trim());
        }
        return comment;
    }

    /**
     * The generated descriptor of a .proto file, found reflectively: file {@code foo_bar.proto}
     * must set {@code option java_outer_classname = "FooBarProto";} in package {@code dalle.v1}.
     */
    static FileDescriptor descriptor(Path file) {
        String base = file.getFileName().toString().replace(".proto", "");
        StringBuilder outer = new StringBuilder();
        for (String part : base.split("_")) {
            outer.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        String className = "dalle.v1." + outer + "Proto";
        try {
            return (FileDescriptor) Class.forName(className).getMethod("getDescriptor").invoke(null);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(file + " has no generated " + className
                    + ": set option java_outer_classname = \"" + outer + "Proto\"", e);
        } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
            throw new AssertionError(className + ".getDescriptor() failed", e);
        }
    }
}
