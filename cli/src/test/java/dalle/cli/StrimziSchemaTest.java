package dalle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.Kustomize.Obj;
import dalle.cli.Kustomize.Rendered;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Every Strimzi resource under {@code deploy/}, as rendered, against the schemas of Strimzi's published CRDs
 * (release 1.2.0, {@code src/test/resources/strimzi-crds}, see the README there): its apiVersion is one the CRD
 * serves, and its body fits the version's openAPIV3Schema the way the API server checks it with strict field
 * validation (types, enums, required fields, minimum/maximum, no unknown fields where the schema does not preserve
 * them). Not checked: the CRDs' CEL rules ({@code x-kubernetes-validations}) and string formats.
 */
class StrimziSchemaTest {

    private static final String GROUP = "kafka.strimzi.io";
    private static final List<String> CRDS = List.of("040-Crd-kafka.yaml", "043-Crd-kafkatopic.yaml",
            "044-Crd-kafkauser.yaml", "045-Crd-kafkanodepool.yaml");

    @Test
    void everyStrimziResourceIsOfAServedVersionAndFitsItsSchema() throws IOException {
        Map<String, Map<String, Object>> crds = crds();
        int checked = 0;
        for (String k : DeployRenderTest.KUSTOMIZATIONS) {
            Rendered r = Kustomize.render(DeployRenderTest.DEPLOY.resolve(k));
            for (Obj o : r.objects()) {
                String apiVersion = (String) o.map().get("apiVersion");
                if (!apiVersion.startsWith(GROUP + "/")) {
                    continue;
                }
                String version = apiVersion.substring(GROUP.length() + 1);
                Map<String, Object> crd = crds.get(o.kind());
                assertTrue(crd != null, o + ": no published CRD of kind " + o.kind());
                Map<String, Object> served = null;
                List<String> versions = new ArrayList<>();
                for (Map<String, Object> v : DeployTree.list(crd, "spec", "versions")) {
                    if (Boolean.TRUE.equals(v.get("served"))) {
                        versions.add((String) v.get("name"));
                        if (version.equals(v.get("name"))) {
                            served = v;
                        }
                    }
                }
                assertTrue(served != null, r + ": " + o + " is " + apiVersion + "; Strimzi 1.2.0 serves " + versions);
                List<String> errors = new ArrayList<>();
                validate(o.map(), Kustomize.map(DeployTree.at(served, "schema", "openAPIV3Schema")), o.kind(), errors);
                assertEquals(List.of(), errors, r + ": " + o + " does not fit the " + o.kind() + " " + version
                        + " schema");
                checked++;
            }
        }
        // Kafka, KafkaNodePool, 14 KafkaTopics, 6 KafkaUsers; again in deploy/monitoring (with metricsConfig and
        // kafkaExporter on the Kafka)
        assertEquals(44, checked, "Strimzi resources checked");
    }

    @Test
    void theValidatorCatchesAnUnknownFieldAWrongTypeAMissingRequiredFieldAndAnEnumOutside() throws IOException {
        Map<String, Object> schema = Kustomize.map(DeployTree.at(
                DeployTree.list(crds().get("KafkaUser"), "spec", "versions").get(0), "schema", "openAPIV3Schema"));
        Map<String, Object> user = Kustomize.map(new Yaml(new SafeConstructor(new LoaderOptions())).load("""
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaUser
                metadata: {name: u}
                spec:
                  authentication: {type: scram-sha-256}
                  authorization:
                    type: simple
                    acls:
                      - resource: {type: topic, name: t, patternType: literal}
                        operation: Read
                  quotas: {producerByteRate: "fast"}
                """));
        List<String> errors = new ArrayList<>();
        validate(user, schema, "KafkaUser", errors);
        String all = String.join("\n", errors);
        assertTrue(all.contains("KafkaUser.spec.authentication.type: 'scram-sha-256' is not one of"), all);
        assertTrue(all.contains("KafkaUser.spec.authorization.acls[0].operation: unknown field"), all);
        assertTrue(all.contains("KafkaUser.spec.authorization.acls[0]: missing required field operations"), all);
        assertTrue(all.contains("KafkaUser.spec.quotas.producerByteRate: 'fast' is not an integer"), all);
        assertEquals(4, errors.size(), all);
    }

    /** The CRDs by kind. */
    static Map<String, Map<String, Object>> crds() throws IOException {
        Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
        for (String f : CRDS) {
            try (InputStream in = StrimziSchemaTest.class.getResourceAsStream("/strimzi-crds/" + f)) {
                assertTrue(in != null, "test resource strimzi-crds/" + f);
                Map<String, Object> crd = Kustomize.map(new Yaml(new SafeConstructor(new LoaderOptions()))
                        .load(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                byKind.put(DeployTree.str(crd, "spec", "names", "kind"), crd);
            }
        }
        return byKind;
    }

    /** Structural-schema validation as the API server does it with strict field validation (no CEL). */
    static void validate(Object node, Map<String, Object> schema, String path, List<String> errors) {
        if (node == null) {
            if (!Boolean.TRUE.equals(schema.get("nullable"))) {
                errors.add(path + ": null");
            }
            return;
        }
        if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
            if (!(node instanceof Integer || node instanceof Long || node instanceof String)) {
                errors.add(path + ": " + node + " is neither an integer nor a string");
            }
            return;
        }
        String type = (String) schema.get("type");
        if (schema.get("enum") instanceof List<?> values && !values.contains(node)) {
            errors.add(path + ": '" + node + "' is not one of " + values);
        }
        if (type == null) {
            // a oneOf/anyOf alternative: structural schemas let it only require fields
            if (node instanceof Map<?, ?> map && schema.get("required") instanceof List<?> required) {
                for (Object key : required) {
                    if (!map.containsKey(key)) {
                        errors.add(path + ": missing required field " + key);
                    }
                }
            }
            return;
        }
        switch (type) {
            case "object" -> {
                if (!(node instanceof Map<?, ?> map)) {
                    errors.add(path + ": " + node + " is not an object");
                    return;
                }
                Map<String, Object> properties = schema.get("properties") == null ? null
                        : Kustomize.map(schema.get("properties"));
                Object additional = schema.get("additionalProperties");
                boolean preserve = Boolean.TRUE.equals(schema.get("x-kubernetes-preserve-unknown-fields"));
                for (Object key : schema.get("required") instanceof List<?> l ? l : List.of()) {
                    if (!map.containsKey(key)) {
                        errors.add(path + ": missing required field " + key);
                    }
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    String key = String.valueOf(e.getKey());
                    String at = path + "." + key;
                    if (properties != null && properties.containsKey(key)) {
                        validate(e.getValue(), Kustomize.map(properties.get(key)), at, errors);
                    } else if (additional instanceof Map<?, ?> a) {
                        validate(e.getValue(), Kustomize.map(a), at, errors);
                    } else if (!preserve && !Boolean.TRUE.equals(additional) && properties != null) {
                        errors.add(at + ": unknown field");
                    }
                }
                if (schema.get("oneOf") instanceof List<?> oneOf) {
                    long fits = oneOf.stream().filter(alt -> {
                        List<String> sub = new ArrayList<>();
                        validate(node, Kustomize.map(alt), path, sub);
                        return sub.isEmpty();
                    }).count();
                    if (fits != 1) {
                        errors.add(path + ": fits " + fits + " of the oneOf alternatives, not exactly one");
                    }
                }
            }
            case "array" -> {
                if (!(node instanceof List<?> list)) {
                    errors.add(path + ": " + node + " is not an array");
                    return;
                }
                Map<String, Object> items = schema.get("items") == null ? Map.of() : Kustomize.map(schema.get("items"));
                for (int i = 0; i < list.size(); i++) {
                    validate(list.get(i), items, path + "[" + i + "]", errors);
                }
            }
            case "string" -> {
                if (!(node instanceof String)) {
                    errors.add(path + ": " + node + " is not a string");
                }
            }
            case "integer" -> {
                if (!(node instanceof Integer || node instanceof Long)) {
                    errors.add(path + ": '" + node + "' is not an integer");
                } else {
                    range(((Number) node).doubleValue(), schema, path, errors);
                }
            }
            case "number" -> {
                if (!(node instanceof Number)) {
                    errors.add(path + ": '" + node + "' is not a number");
                } else {
                    range(((Number) node).doubleValue(), schema, path, errors);
                }
            }
            case "boolean" -> {
                if (!(node instanceof Boolean)) {
                    errors.add(path + ": " + node + " is not a boolean");
                }
            }
            default -> errors.add(path + ": the schema has type " + type + ", unknown to this validator");
        }
    }

    private static void range(double value, Map<String, Object> schema, String path, List<String> errors) {
        if (schema.get("minimum") instanceof Number min && value < min.doubleValue()) {
            errors.add(path + ": " + value + " is below the minimum " + min);
        }
        if (schema.get("maximum") instanceof Number max && value > max.doubleValue()) {
            errors.add(path + ": " + value + " is above the maximum " + max);
        }
    }
}
