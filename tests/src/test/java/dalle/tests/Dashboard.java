package dalle.tests;

import dalle.services.common.PromQl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The Grafana dashboard of {@code deploy/monitoring}: the metric names its PromQL queries ({@link PromQl}, as cli's
 * DeployMonitoringTest reads them to check the Kafka ones against the JMX exporter rules); here the services' metrics
 * are checked against live scrapes.
 */
final class Dashboard {

    private Dashboard() {
    }

    /** {@code deploy/monitoring/dalle-dashboard.json} of the checkout (beside {@code dalle.services.dir}). */
    static Path file() {
        Path services = Path.of(System.getProperty("dalle.services.dir", "../services")).toAbsolutePath().normalize();
        return services.getParent().resolve("deploy/monitoring/dalle-dashboard.json");
    }

    /** Every metric name the dashboard's queries use. */
    static Set<String> metrics() throws IOException {
        return PromQl.dashboardMetrics(Files.readString(file(), StandardCharsets.UTF_8));
    }
}
