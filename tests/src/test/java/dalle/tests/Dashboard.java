package dalle.tests;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names the Grafana dashboard of {@code deploy/monitoring} queries, from its PromQL (the panels' targets
 * and the variables' {@code label_values}). The same extraction as cli's DeployMonitoringTest, which checks the
 * dashboard's Kafka metrics against the JMX exporter rules; here the services' metrics are checked against live
 * scrapes.
 */
final class Dashboard {

    private static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern BRACES = Pattern.compile("\\{[^}]*}|\\[[^]]*]");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "and", "or", "unless", "bool", "offset");

    private Dashboard() {
    }

    /** {@code deploy/monitoring/dalle-dashboard.json} of the checkout (beside {@code dalle.services.dir}). */
    static Path file() {
        Path services = Path.of(System.getProperty("dalle.services.dir", "../services")).toAbsolutePath().normalize();
        return services.getParent().resolve("deploy/monitoring/dalle-dashboard.json");
    }

    /** Every metric name the dashboard's queries use. */
    static Set<String> metrics() throws IOException {
        String json = Files.readString(file(), StandardCharsets.UTF_8);
        JsonObject dashboard = JsonParser.parseString(json).getAsJsonObject();
        Set<String> metrics = new TreeSet<>();
        for (JsonElement p : dashboard.getAsJsonArray("panels")) {
            JsonObject panel = p.getAsJsonObject();
            if (panel.has("targets")) {
                for (JsonElement t : panel.getAsJsonArray("targets")) {
                    metrics.addAll(names(t.getAsJsonObject().get("expr").getAsString()));
                }
            }
        }
        Matcher lv = Pattern.compile("label_values\\(([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher(json);
        while (lv.find()) {
            metrics.add(lv.group(1));
        }
        return metrics;
    }

    /** The metric names of one PromQL expression (label matchers, ranges, grouping labels and functions removed). */
    static Set<String> names(String expr) {
        String e = STRINGS.matcher(expr).replaceAll("\"\"");
        e = BRACES.matcher(e).replaceAll(" ");
        e = GROUPING.matcher(e).replaceAll(" ");
        e = e.replaceAll("\\b\\d+[smhdwy]\\b", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(e);
        while (m.find()) {
            boolean partOfWord = m.start() > 0 && Character.isLetterOrDigit(e.charAt(m.start() - 1));
            if (!partOfWord && !KEYWORDS.contains(m.group())) {
                names.add(m.group());
            }
        }
        return names;
    }

    /** The metric names of a Prometheus text scrape (samples only, comments skipped). */
    static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
