package dalle.services.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.GenerationResult;
import dalle.v1.Stage;
import java.time.Instant;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

/** The CloudEvents Kafka binding (binary mode) on produced records; other modules' tests use its assertion. */
public class CloudEventsTest {

    /** Asserts the binding's required attributes and the content type on a record's headers. */
    public static void assertCloudEvent(Headers headers, String type) {
        assertEquals("1.0", CloudEvents.header(headers, "ce_specversion"));
        assertEquals(type, CloudEvents.header(headers, "ce_type"));
        assertTrue(CloudEvents.header(headers, "ce_source").startsWith("/dalle/"), CloudEvents.header(headers,
                "ce_source"));
        assertEquals(36, CloudEvents.header(headers, "ce_id").length(), "a UUID");
        Instant.parse(CloudEvents.header(headers, "ce_time"));
        assertEquals("application/protobuf", CloudEvents.header(headers, "content-type"));
    }

    @Test
    void aRecordCarriesTheProtobufBytesAndTheEventsAttributesAsHeaders() {
        GenerationResult value = GenerationResult.newBuilder().setRequestId("r-1").setCaption("a red circle").build();
        ProducerRecord<String, byte[]> r = CloudEvents.record("generation-results", "r-1", value,
                CloudEvents.source(Stage.STAGE_FAN_IN));
        assertEquals("r-1", r.key());
        org.junit.jupiter.api.Assertions.assertArrayEquals(value.toByteArray(), r.value());
        assertCloudEvent(r.headers(), "dalle.v1.GenerationResult");
        assertEquals("/dalle/fan-in", CloudEvents.header(r.headers(), "ce_source"));
        ProducerRecord<String, byte[]> again = CloudEvents.record("generation-results", "r-1", value, "/dalle/x");
        assertNotEquals(CloudEvents.header(r.headers(), "ce_id"), CloudEvents.header(again.headers(), "ce_id"));
        CloudEvents.add(r.headers(), value, "/dalle/y");
        int ids = 0;
        for (var h : r.headers().headers("ce_id")) {
            ids++;
        }
        assertEquals(1, ids, "adding again replaces, never duplicates, an attribute");
    }
}
