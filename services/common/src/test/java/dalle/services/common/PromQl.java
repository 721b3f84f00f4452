package dalle.services.common;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a Grafana dashboard's PromQL uses, and those a Prometheus scrape exports: for the tests that keep
 * {@code deploy/monitoring/dalle-dashboard.json} honest (cli's DeployMonitoringTest against the JMX exporter rules,
 * the e2e Monitoring test against live scrapes of the services). Shared through this module's test-jar.
 */
public final class PromQl {

    /** One query of a dashboard: its panel's title and the PromQL. */
    public record Query(String panel, String expr) {
    }

    private static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern BRACES = Pattern.compile("\\{[^}]*}|\\[[^]]*]");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(([a-zA-Z_:][a-zA-Z0-9_:]*)");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "and", "or", "unless", "bool", "offset");

    private PromQl() {
    }

    /** The metric names of one PromQL expression (label matchers, ranges, grouping labels and functions removed). */
    public static Set<String> metricNames(String expr) {
        String e = STRINGS.matcher(expr).replaceAll("\"\"");
        e = BRACES.matcher(e).replaceAll(" ");
        e = GROUPING.matcher(e).replaceAll(" ");
        e = e.replaceAll("\\b\\d+[smhdwy]\\b", " "); // offset durations
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

    /** The panels' target queries of a Grafana dashboard (JSON). */
    public static List<Query> dashboardQueries(String json) {
        List<Query> queries = new ArrayList<>();
        for (JsonElement p : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("panels")) {
            JsonObject panel = p.getAsJsonObject();
            if (panel.has("targets")) {
                for (JsonElement t : panel.getAsJsonArray("targets")) {
                    queries.add(new Query(panel.has("title") ? panel.get("title").getAsString() : "",
                            t.getAsJsonObject().get("expr").getAsString()));
                }
            }
        }
        return queries;
    }

    /** Every metric name a dashboard's PromQL uses: its panels' queries and its variables' label_values. */
    public static Set<String> dashboardMetrics(String json) {
        Set<String> metrics = new TreeSet<>();
        dashboardQueries(json).forEach(q -> metrics.addAll(metricNames(q.expr())));
        Matcher lv = LABEL_VALUES.matcher(json);
        while (lv.find()) {
            metrics.add(lv.group(1));
        }
        return metrics;
    }

    /** The metric names of a Prometheus text scrape (samples only, comments skipped). */
    public static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
