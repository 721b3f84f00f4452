package dalle.cli;

import static dalle.cli.DeployTree.envName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.Kustomize.Obj;
import dalle.cli.Kustomize.Rendered;
import dalle.cli.Kustomize.Workload;
import dalle.services.common.PromQl;
import dalle.services.common.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code deploy/monitoring} as rendered: the PodMonitors scrape exactly the five services on the port that serves
 * {@code /q/metrics} (and Prometheus' namespace may reach it), the Kafka PodMonitors select the pods Strimzi makes
 * for the cluster and its Kafka Exporter, the Kafka Exporter follows our groups and topics, and every Kafka metric the
 * dashboard queries comes out of the JMX exporter rules of {@code kafka-metrics.yaml} (applied here to Kafka's MBean
 * names as the exporter does) or is one of Kafka Exporter's. That the services' metrics the dashboard queries are
 * really exported is checked against live scrapes by the end-to-end test ({@code tests/}, EndToEndTest).
 */
class DeployMonitoringTest {

    /** Strimzi's name of the metrics port of the Kafka nodes and of Kafka Exporter (9404). */
    static final String STRIMZI_METRICS_PORT = "tcp-prometheus";
    /**
     * Kafka Exporter's metrics this dashboard may use (github.com/danielqsj/kafka_exporter, README "Metrics"): they
     * come from the exporter's code, not from rules of ours.
     */
    static final Set<String> KAFKA_EXPORTER_METRICS = Set.of("kafka_brokers", "kafka_topic_partitions",
            "kafka_topic_partition_current_offset", "kafka_topic_partition_oldest_offset",
            "kafka_topic_partition_in_sync_replica", "kafka_topic_partition_under_replicated_partition",
            "kafka_consumergroup_current_offset", "kafka_consumergroup_lag");
    /**
     * Kafka MBeans (documented in Kafka's "Monitoring" section; KRaft nodes register them too) in the form the JMX
     * exporter matches rules against: {@code domain<key=value, ...><>attribute}.
     */
    static final List<String> KAFKA_MBEANS = List.of(
            "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=image-codes><>Count",
            "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count",
            "kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec, topic=image-codes><>Count",
            "kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec, topic=image-codes><>Count",
            "kafka.server<type=BrokerTopicMetrics, name=FailedProduceRequestsPerSec, topic=image-codes><>Count",
            "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value",
            "kafka.server<type=ReplicaManager, name=UnderMinIsrPartitionCount><>Value",
            "kafka.server<type=ReplicaManager, name=PartitionCount><>Value",
            "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value",
            "kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value",
            "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Produce><>99thPercentile",
            "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=FetchConsumer><>99thPercentile",
            "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Produce><>50thPercentile",
            "kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate");

    static Rendered monitoring;
    static Rendered kafka;
    static Map<String, Rendered> overlays;
    static Rendered training;

    @BeforeAll
    static void render() {
        monitoring = Kustomize.render(DeployRenderTest.DEPLOY.resolve("monitoring"));
        kafka = Kustomize.render(DeployRenderTest.DEPLOY.resolve("kafka"));
        overlays = new LinkedHashMap<>();
        for (String o : List.of("overlays/cpu", "overlays/gpu", "overlays/tls")) {
            overlays.put(o, Kustomize.render(DeployRenderTest.DEPLOY.resolve(o)));
        }
        training = Kustomize.render(DeployRenderTest.DEPLOY.resolve("training"));
    }

    @Test
    void itIsDeployKafkaPlusMetricsAndTheMonitorsAndDashboard() {
        Set<String> kafkaObjects = names(kafka);
        Set<String> objects = names(monitoring);
        assertTrue(objects.containsAll(kafkaObjects), "deploy/monitoring replaces deploy/kafka, so it holds all of it");
        objects.removeAll(kafkaObjects);
        assertEquals(new TreeSet<>(Set.of("ConfigMap/dalle-grafana-dashboard", "ConfigMap/dalle-kafka-metrics",
                "PodMonitor/dalle-kafka", "PodMonitor/dalle-kafka-exporter", "PodMonitor/dalle-services")), objects);
        for (Obj o : monitoring.all("PodMonitor")) {
            assertEquals("monitoring.coreos.com/v1", o.map().get("apiVersion"), o.toString());
        }
    }

    @Test
    void theServicesMonitorScrapesQMetricsOnTheManagementPortOfExactlyTheFiveServices() {
        Map<String, Object> spec = Kustomize.map(monitor("dalle-services").map().get("spec"));
        Object selector = spec.get("selector");
        List<Map<String, Object>> endpoints = DeployTree.list(spec, "podMetricsEndpoints");
        assertEquals(1, endpoints.size(), "one endpoint per pod");
        Map<String, Object> endpoint = endpoints.get(0);
        assertEquals("/q/metrics", endpoint.get("path"));
        String port = (String) endpoint.get("port");
        for (Rendered r : overlays.values()) {
            String managementPort = r.configMap("dalle-config").get(envName(Services.MANAGEMENT_PORT_PROPERTY));
            Set<String> scraped = new TreeSet<>();
            for (Workload d : r.deployments()) {
                if (DeploySecurityTest.selects(selector, d.podLabels())) {
                    scraped.add(d.name());
                    assertEquals(managementPort, String.valueOf(d.container().port(port)), r + ": " + d
                            + ": the monitor's port '" + port + "' is not its management port");
                    assertTrue(prometheusMayReach(r, d, port), r + ": no NetworkPolicy lets another namespace "
                            + "(Prometheus') reach port " + port + " of " + d);
                }
            }
            assertEquals(new TreeSet<>(Services.SERVICES.keySet()), scraped, r + ": the pods the monitor scrapes");
            for (Kustomize.Service s : r.services()) {
                assertTrue(s.ports().stream().noneMatch(p -> port.equals(p.targetPort())
                        || Integer.valueOf(managementPort).equals(p.targetPort())), s + " exposes the management port");
            }
        }
        for (Workload w : training.workloads()) {
            assertFalse(DeploySecurityTest.selects(selector, w.podLabels()), w + " has no /q/metrics");
        }
    }

    private static boolean prometheusMayReach(Rendered r, Workload d, String port) {
        for (Obj np : r.all("NetworkPolicy")) {
            if (!DeploySecurityTest.selects(DeployTree.at(np.map(), "spec", "podSelector"), d.podLabels())) {
                continue;
            }
            for (Map<String, Object> rule : DeployTree.list(np.map(), "spec", "ingress")) {
                boolean fromNamespace = DeployTree.list(rule, "from").stream()
                        .anyMatch(peer -> peer.get("namespaceSelector") != null);
                boolean onPort = DeployTree.list(rule, "ports").stream().anyMatch(p -> port.equals(p.get("port")));
                if (fromNamespace && onPort) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void theKafkaMonitorsSelectThePodsStrimziMakesAndKafkaExporterFollowsOurGroupsAndTopics() {
        Obj k = monitoring.all("Kafka").get(0);
        String cluster = k.name();
        Map<String, Object> metricsConfig = Kustomize.map(DeployTree.at(k.map(), "spec", "kafka", "metricsConfig"));
        assertEquals("jmxPrometheusExporter", metricsConfig.get("type"));
        String configMap = DeployTree.str(metricsConfig, "valueFrom", "configMapKeyRef", "name");
        String key = DeployTree.str(metricsConfig, "valueFrom", "configMapKeyRef", "key");
        assertNotNull(monitoring.configMap(configMap), "metricsConfig names ConfigMap " + configMap + ", not rendered");
        assertNotNull(monitoring.configMap(configMap).get(key), configMap + " has no key " + key);

        // Strimzi labels the pods of cluster C: strimzi.io/cluster=C, strimzi.io/kind=Kafka, and strimzi.io/name
        // C-kafka (the nodes of every node pool) or C-kafka-exporter; both serve metrics on port tcp-prometheus
        Map<String, String> nodes = Map.of("strimzi.io/cluster", cluster, "strimzi.io/kind", "Kafka",
                "strimzi.io/name", cluster + "-kafka", "strimzi.io/pool-name", "dual-role");
        Map<String, String> exporter = Map.of("strimzi.io/cluster", cluster, "strimzi.io/kind", "Kafka",
                "strimzi.io/name", cluster + "-kafka-exporter");
        Map<String, String> entityOperator = Map.of("strimzi.io/cluster", cluster, "strimzi.io/kind", "Kafka",
                "strimzi.io/name", cluster + "-entity-operator");
        Object nodesSelector = DeployTree.at(monitor("dalle-kafka").map(), "spec", "selector");
        Object exporterSelector = DeployTree.at(monitor("dalle-kafka-exporter").map(), "spec", "selector");
        assertTrue(DeploySecurityTest.selects(nodesSelector, nodes) && !DeploySecurityTest.selects(nodesSelector,
                exporter) && !DeploySecurityTest.selects(nodesSelector, entityOperator), "dalle-kafka: the nodes only");
        assertTrue(DeploySecurityTest.selects(exporterSelector, exporter) && !DeploySecurityTest.selects(
                exporterSelector, nodes), "dalle-kafka-exporter: the exporter only");
        for (String m : List.of("dalle-kafka", "dalle-kafka-exporter")) {
            assertEquals(STRIMZI_METRICS_PORT, DeployTree.str(DeployTree.list(monitor(m).map(), "spec",
                    "podMetricsEndpoints").get(0), "port"), m);
        }
        Map<String, Object> kafkaExporter = Kustomize.map(DeployTree.at(k.map(), "spec", "kafkaExporter"));
        Pattern groups = Pattern.compile((String) kafkaExporter.get("groupRegex"));
        Pattern topics = Pattern.compile((String) kafkaExporter.get("topicRegex"));
        List<String> ourGroups = new ArrayList<>();
        Services.GATEWAY_UPSTREAM_PROPERTIES.keySet().forEach(stage -> ourGroups.add("dalle-" + stage));
        ourGroups.addAll(List.of("dalle-fan-in", "dalle-status-view"));
        for (String g : ourGroups) {
            assertTrue(groups.matcher(g).matches(), "Kafka Exporter's groupRegex misses group " + g);
        }
        assertFalse(groups.matcher("batch-client").matches(), "a batch client's group is its own");
        for (var t : Topics.all()) {
            assertTrue(topics.matcher(t.name()).matches(), "Kafka Exporter's topicRegex misses topic " + t.name());
        }
        assertTrue(topics.matcher("dalle-fan-in-candidates-repartition").matches(), "the gateway's Streams topics");
        assertFalse(topics.matcher("__consumer_offsets").matches());
    }

    @Test
    void theDashboardIsTheConfigMapGrafanaLoadsAndItsKafkaMetricsComeOutOfOurRulesOrKafkaExporter()
            throws IOException {
        String file = Files.readString(DeployRenderTest.DEPLOY.resolve("monitoring/dalle-dashboard.json"),
                StandardCharsets.UTF_8);
        Obj cm = monitoring.all("ConfigMap").stream().filter(o -> o.name().equals("dalle-grafana-dashboard"))
                .findFirst().orElseThrow();
        assertEquals("1", DeployTree.str(cm.map(), "metadata", "labels", "grafana_dashboard"), "Grafana's label");
        assertEquals(file, monitoring.configMap("dalle-grafana-dashboard").get("dalle-dashboard.json"));

        Set<String> used = dashboardMetrics(file);
        for (String m : List.of("dalle_stage_latency_seconds_bucket", "dalle_stage_queue_depth",
                "dalle_sampler_batch_size_bucket", "kafka_consumergroup_lag", "dalle_dlq_records_total",
                "dalle_kafka_stage_problems_total")) {
            assertTrue(used.contains(m), "the dashboard shows " + m + " (latency, queue depth, batch size, lag, "
                    + "dead letters, errors): " + used);
        }
        Set<String> fromRules = jmxExporterNames(monitoring.configMap("dalle-kafka-metrics")
                .get("kafka-metrics-config.yml"), KAFKA_MBEANS);
        for (String m : used) {
            if (!m.startsWith("kafka_")) {
                continue;
            }
            assertTrue(fromRules.contains(m) || KAFKA_EXPORTER_METRICS.contains(m), "the dashboard queries " + m
                    + ", which neither the JMX exporter rules (they give " + fromRules + ") nor Kafka Exporter export");
        }
    }

    @Test
    void theMetricNameExtractorAndTheRuleEngineWorkOnKnownCases() {
        assertEquals(Set.of("a_bucket", "b_total", "c"), PromQl.metricNames("histogram_quantile(0.9, sum by (le, stage) "
                + "(rate(a_bucket{namespace=\"$namespace\", x=~\"y(z)\"}[$__rate_interval]))) / on (stage) "
                + "group_left sum without (pod) (rate(b_total[5m])) and c offset 5m"));
        String rules = """
                lowercaseOutputName: true
                rules:
                  - pattern: kafka.server<type=(.+), name=(.+)PerSec, topic=(.+)><>Count
                    name: kafka_server_$1_$2_total
                    type: COUNTER
                  - pattern: kafka.server<type=(.+), name=(.+)><>Value
                    name: kafka_server_$1_$2
                """;
        assertEquals(Set.of("kafka_server_brokertopicmetrics_messagesin_total", "kafka_server_replicamanager_x"),
                jmxExporterNames(rules, List.of("kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, "
                        + "topic=t><>Count", "kafka.server<type=ReplicaManager, name=X><>Value",
                        "kafka.log<type=Log, name=Size><>Value")));
    }

    private static Obj monitor(String name) {
        return monitoring.all("PodMonitor").stream().filter(o -> o.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no PodMonitor " + name));
    }

    private static Set<String> names(Rendered r) {
        Set<String> s = new TreeSet<>();
        r.objects().forEach(o -> s.add(o.kind() + "/" + o.name()));
        return s;
    }

    /** Every metric name the dashboard's PromQL uses; each of its many queries names at least one. */
    static Set<String> dashboardMetrics(String json) {
        List<PromQl.Query> queries = PromQl.dashboardQueries(json);
        assertTrue(queries.size() > 10, "queries: " + queries.size());
        for (PromQl.Query q : queries) {
            assertFalse(PromQl.metricNames(q.expr()).isEmpty(), q.panel() + ": no metric in " + q.expr());
        }
        return PromQl.dashboardMetrics(json);
    }

    /**
     * The metric names the Prometheus JMX exporter makes of {@code mbeans} with {@code rulesYaml}, as it does: each
     * bean string against the rules in order, {@code ^.*(?:pattern).*$}, the first match wins, its name with
     * {@code $n} replaced, lower-cased under {@code lowercaseOutputName}, characters outside {@code [a-zA-Z0-9_:]}
     * as '_', and COUNTERs ending in {@code _total}. An MBean no rule matches is not exported.
     */
    static Set<String> jmxExporterNames(String rulesYaml, List<String> mbeans) {
        Map<String, Object> config = Kustomize.map(new Yaml(new SafeConstructor(new LoaderOptions())).load(rulesYaml));
        boolean lower = Boolean.TRUE.equals(config.get("lowercaseOutputName"));
        Map<Pattern, Map<String, Object>> rules = new LinkedHashMap<>();
        for (Map<String, Object> rule : DeployTree.list(config, "rules")) {
            rules.put(Pattern.compile("^.*(?:" + rule.get("pattern") + ").*$"), rule);
        }
        Set<String> names = new TreeSet<>();
        for (String bean : mbeans) {
            for (Map.Entry<Pattern, Map<String, Object>> rule : rules.entrySet()) {
                Matcher m = rule.getKey().matcher(bean + ": 1");
                if (!m.matches()) {
                    continue;
                }
                String name = m.replaceAll((String) rule.getValue().get("name"));
                name = (lower ? name.toLowerCase(Locale.ROOT) : name).replaceAll("[^a-zA-Z0-9_:]", "_");
                if ("COUNTER".equals(rule.getValue().get("type")) && !name.endsWith("_total")) {
                    name += "_total";
                }
                names.add(name);
                break;
            }
        }
        return names;
    }
}
