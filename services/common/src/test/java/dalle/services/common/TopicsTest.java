package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.GenerationRequest;
import dalle.v1.ImageCodes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

/** The registry says what events.proto's topic table says, and the dead-letter rule holds. */
class TopicsTest {

    @Test
    void registryMatchesTheTopicTableOfEventsProto() throws IOException {
        Map<String, String> table = topicTable();
        Map<String, String> registry = new LinkedHashMap<>();
        Topics.pipeline().forEach(t -> registry.put(t.name(), t.valueType().getSimpleName()));
        assertEquals(table, registry, "events.proto's table (topic -> value) and Topics.pipeline() disagree");
    }

    @Test
    void everyPipelineTopicHasItsDeadLetterTopicAndNamesAreUnique() {
        List<String> names = Topics.all().stream().map(TopicSpec::name).toList();
        assertEquals(14, names.size());
        assertEquals(14, names.stream().distinct().count());
        for (TopicSpec<?> t : Topics.pipeline()) {
            assertTrue(names.contains(t.name() + "-dlq"), t.name());
            assertFalse(t.isDeadLetter());
            TopicSpec<byte[]> dlq = Topics.deadLetter(t);
            assertTrue(dlq.isDeadLetter());
            assertSame(byte[].class, dlq.valueType());
            assertTrue(dlq.maxMessageBytes() > t.maxMessageBytes(), "room for the dlq-* headers");
        }
    }

    @Test
    void defaultsArePerRequestThreePerCandidateSixRetentionSevenFourteenAndThirtyDays() {
        assertEquals(3, Topics.GENERATION_REQUESTS.partitions());
        assertEquals(3, Topics.GENERATION_RESULTS.partitions());
        assertEquals(6, Topics.IMAGE_CODES.partitions());
        assertEquals(6, Topics.CANDIDATE_SCORES.partitions());
        assertEquals(Duration.ofDays(7), Topics.TOKENIZED_REQUESTS.retention());
        assertEquals(Duration.ofDays(14), Topics.GENERATION_RESULTS.retention());
        assertEquals(Duration.ofDays(30), Topics.byName("image-codes-dlq").orElseThrow().retention());
        assertEquals("604800000", Topics.GENERATION_EVENTS.configs().get("retention.ms"));
        assertEquals("delete", Topics.GENERATION_EVENTS.configs().get("cleanup.policy"));
    }

    @Test
    void deadLetterTopicAppendsDlqAndRefusesToNestIt() {
        assertEquals("image-codes-dlq", Topics.deadLetterTopic("image-codes"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Topics.deadLetterTopic("image-codes-dlq"));
        assertTrue(e.getMessage().contains("image-codes-dlq"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Topics.deadLetterTopic(" "));
    }

    @Test
    void specsCarryTheirSerdesAndParseRawValues() {
        GenerationRequest r = GenerationRequest.newBuilder().setRequestId("r-1").setCaption("a cat").build();
        byte[] bytes = Topics.GENERATION_REQUESTS.valueSerde().serializer().serialize("generation-requests", r);
        assertEquals(r, Topics.GENERATION_REQUESTS.parse(bytes).value());
        assertEquals("r-1", new String(Topics.IMAGE_CODES.keySerde().serializer().serialize("image-codes", "r-1"),
                StandardCharsets.UTF_8));
        assertSame(String.class, Topics.IMAGE_CODES.keyType());
        assertSame(ImageCodes.class, Topics.IMAGE_CODES.valueType());
        assertFalse(Topics.IMAGE_CODES.parse("not a protobuf".getBytes(StandardCharsets.UTF_8)).isOk());
        TopicSpec<byte[]> dlq = Topics.deadLetter(Topics.IMAGE_CODES);
        assertTrue(dlq.parse(new byte[] {1, 2}).isOk(), "a dead-letter topic holds any bytes");
        assertFalse(dlq.parse(null).isOk());
    }

    @Test
    void badSpecsAreRejectedNamingTheValue() {
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> new TopicSpec<>("Image_Codes", byte[].class, Serdes.ByteArray(), 1, Duration.ofDays(1), 1 << 20));
        assertEquals("topic name 'Image_Codes' is not kebab-case [a-z0-9-], 1..200 characters", name.getMessage());
        IllegalArgumentException partitions = assertThrows(IllegalArgumentException.class,
                () -> new TopicSpec<>("x", byte[].class, Serdes.ByteArray(), 0, Duration.ofDays(1), 1 << 20));
        assertEquals("topic x: partitions 0 is outside 1..1000", partitions.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new TopicSpec<>("x", byte[].class, Serdes.ByteArray(), 1, Duration.ofSeconds(5), 1 << 20));
    }

    /** topic -> value type of the table in events.proto's header comment (dead letters excluded). */
    static Map<String, String> topicTable() throws IOException {
        String proto;
        try (InputStream in = TopicsTest.class.getClassLoader().getResourceAsStream("dalle/v1/events.proto")) {
            assertTrue(in != null, "dalle/v1/events.proto is on the classpath (shipped in dalle-proto)");
            proto = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Pattern row = Pattern.compile("^//\\s+\\|\\s*([a-z][a-z-]*)\\s*\\|\\s*([A-Za-z]+)\\s*\\|", Pattern.MULTILINE);
        Map<String, String> table = new LinkedHashMap<>();
        Matcher m = row.matcher(proto);
        while (m.find()) {
            if (!m.group(1).equals("topic")) {
                table.put(m.group(1), m.group(2));
            }
        }
        assertEquals(7, table.size(), "rows found in events.proto: " + table);
        return table;
    }
}
