package dalle.services.common.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Tracing is on only where a collector is named: {@code quarkus.otel.sdk.disabled} defaults to true unless an OTLP
 * endpoint is configured — {@code quarkus.otel.exporter.otlp.endpoint} or {@code ...otlp.traces.endpoint} (as
 * properties or their {@code QUARKUS_OTEL_...} environment variables), or OpenTelemetry's standard
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT}, which then becomes Quarkus' endpoint. Quarkus' own default endpoint
 * (localhost:4317) does not count: without a collector the SDK would export to it and log every refused
 * connection; disabled, there are no spans, no exporter and no trace headers, and nothing is logged.
 *
 * <p>{@code quarkus.otel.sdk.disabled} is a run-time key in Quarkus 3.33 (so is the endpoint), which is why this
 * works on a built application; {@code quarkus.otel.enabled} (build time) stays true. An explicit
 * {@code quarkus.otel.sdk.disabled} in any config source wins over this one (ordinal {@value #ORDINAL}, below
 * application.properties).
 *
 * <p>Registered in {@code META-INF/services/io.smallrye.config.ConfigSourceFactory}: every service has it.
 */
public final class TracingDefaults implements ConfigSourceFactory {

    /** Below application.properties (250) and the environment (300); above the extensions' defaults. */
    static final int ORDINAL = 150;
    static final String DISABLED = "quarkus.otel.sdk.disabled";
    static final String ENDPOINT = "quarkus.otel.exporter.otlp.endpoint";
    static final String TRACES_ENDPOINT = "quarkus.otel.exporter.otlp.traces.endpoint";
    static final String STANDARD_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /** Values from sources at or below this ordinal are defaults (Quarkus' own), not a user's configuration. */
    private static final int DEFAULTS_ORDINAL = 0;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        return List.of(new PropertiesConfigSource(defaults(key -> configured(context, key)), "dalle tracing defaults",
                ORDINAL));
    }

    /**
     * The defaults, given what is configured ({@code configured} answers null for a key that is not).
     */
    static Map<String, String> defaults(java.util.function.Function<String, String> configured) {
        Map<String, String> m = new HashMap<>();
        boolean named = configured.apply(ENDPOINT) != null || configured.apply(TRACES_ENDPOINT) != null;
        String standard = configured.apply(STANDARD_ENDPOINT);
        if (!named && standard != null) {
            m.put(ENDPOINT, standard);
            named = true;
        }
        m.put(DISABLED, Boolean.toString(!named));
        return m;
    }

    private static String configured(ConfigSourceContext context, String key) {
        ConfigValue v = context.getValue(key);
        if (v == null || v.getValue() == null || v.getValue().isBlank() || v.getConfigSourceOrdinal() <= DEFAULTS_ORDINAL) {
            return null;
        }
        return v.getValue();
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }
}
