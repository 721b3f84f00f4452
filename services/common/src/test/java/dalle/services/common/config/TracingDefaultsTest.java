package dalle.services.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tracing is off unless a collector is named, and OpenTelemetry's standard variable names one. */
class TracingDefaultsTest {

    @Test
    void withoutAnEndpointTheSdkIsDisabled() {
        assertEquals(Map.of(TracingDefaults.DISABLED, "true"), TracingDefaults.defaults(key -> null));
    }

    @Test
    void anEndpointOrATracesEndpointTurnsItOn() {
        assertEquals(Map.of(TracingDefaults.DISABLED, "false"), TracingDefaults.defaults(
                key -> key.equals(TracingDefaults.ENDPOINT) ? "http://collector:4317" : null));
        assertEquals(Map.of(TracingDefaults.DISABLED, "false"), TracingDefaults.defaults(
                key -> key.equals(TracingDefaults.TRACES_ENDPOINT) ? "http://collector:4318/v1/traces" : null));
    }

    @Test
    void theStandardVariableBecomesQuarkusEndpointUnlessOneIsSet() {
        assertEquals(Map.of(TracingDefaults.DISABLED, "false", TracingDefaults.ENDPOINT, "http://otel:4317"),
                TracingDefaults.defaults(key -> key.equals(TracingDefaults.STANDARD_ENDPOINT) ? "http://otel:4317"
                        : null));
        Map<String, String> both = TracingDefaults.defaults(key -> switch (key) {
            case TracingDefaults.STANDARD_ENDPOINT -> "http://otel:4317";
            case TracingDefaults.ENDPOINT -> "http://quarkus-wins:4317";
            default -> null;
        });
        assertFalse(both.containsKey(TracingDefaults.ENDPOINT), "the explicit Quarkus key is left alone: " + both);
    }
}
