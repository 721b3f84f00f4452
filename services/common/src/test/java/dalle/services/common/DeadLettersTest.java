package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.Stage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The dead-letter record carries the original record unchanged plus exactly events.proto's six headers. */
class DeadLettersTest {

    static ConsumerRecord<byte[], byte[]> consumed(String topic, int partition, long offset, byte[] key, byte[] value,
            RecordHeaders headers) {
        return new ConsumerRecord<>(topic, partition, offset, 1_700_000_000_000L, TimestampType.CREATE_TIME,
                key == null ? -1 : key.length, value == null ? -1 : value.length, key, value, headers, Optional.empty());
    }

    @Test
    void recordGoesToTheSourcesDlqWithKeyValueHeadersAndTheSixDlqHeaders() {
        RecordHeaders original = new RecordHeaders();
        original.add("trace-id", "t-9".getBytes(StandardCharsets.UTF_8));
        byte[] key = "req-7".getBytes(StandardCharsets.UTF_8);
        byte[] value = {1, 2, 3, (byte) 0xFF};
        ConsumerRecord<byte[], byte[]> failed = consumed("image-codes", 4, 12_345L, key, value, original);

        ProducerRecord<byte[], byte[]> dlq = DeadLetters.record(failed, Stage.STAGE_DECODER, "bad grid", 1_717_000_000_123L);

        assertEquals("image-codes-dlq", dlq.topic());
        assertNull(dlq.partition(), "the key picks the partition of the dead-letter topic");
        assertArrayEquals(key, dlq.key());
        assertArrayEquals(value, dlq.value());
        List<String> keys = new ArrayList<>();
        for (Header h : dlq.headers()) {
            keys.add(h.key());
        }
        assertEquals(List.of("trace-id", "dlq-reason", "dlq-source-topic", "dlq-source-partition",
                "dlq-source-offset", "dlq-stage", "dlq-timestamp-ms"), keys);
        assertEquals("t-9", DeadLetters.header(dlq.headers(), "trace-id"));
        assertEquals("bad grid", DeadLetters.header(dlq.headers(), DeadLetters.REASON));
        assertEquals("image-codes", DeadLetters.header(dlq.headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("4", DeadLetters.header(dlq.headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals("12345", DeadLetters.header(dlq.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("STAGE_DECODER", DeadLetters.header(dlq.headers(), DeadLetters.STAGE));
        assertEquals("1717000000123", DeadLetters.header(dlq.headers(), DeadLetters.TIMESTAMP_MS));
    }

    @Test
    void aRecordThatFailsAgainGetsItsDlqHeadersReplacedNotDuplicated() {
        RecordHeaders earlier = new RecordHeaders();
        earlier.add(DeadLetters.REASON, "old".getBytes(StandardCharsets.UTF_8));
        earlier.add(DeadLetters.STAGE, "STAGE_SAMPLER".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<byte[], byte[]> failed = consumed("image-codes", 0, 1L, null, new byte[] {9}, earlier);
        ProducerRecord<byte[], byte[]> dlq = DeadLetters.record(failed, Stage.STAGE_DECODER, "new", 5L);
        int reasons = 0;
        for (Header h : dlq.headers().headers(DeadLetters.REASON)) {
            reasons++;
        }
        assertEquals(1, reasons);
        assertEquals("new", DeadLetters.header(dlq.headers(), DeadLetters.REASON));
        assertEquals("STAGE_DECODER", DeadLetters.header(dlq.headers(), DeadLetters.STAGE));
        assertNull(dlq.key());
    }

    @Test
    void reasonIsExceptionClassAndMessageWithCauses() {
        Exception e = new IllegalStateException("decoder failed", new ArithmeticException("NaN in pixels"));
        assertEquals("java.lang.IllegalStateException: decoder failed; caused by java.lang.ArithmeticException: NaN in pixels",
                DeadLetters.reason(e));
        String longReason = "x".repeat(10_000);
        ProducerRecord<byte[], byte[]> dlq = DeadLetters.record(
                consumed("image-codes", 0, 0L, null, new byte[0], new RecordHeaders()), Stage.STAGE_DECODER,
                longReason, 0L);
        assertEquals(4000, DeadLetters.header(dlq.headers(), DeadLetters.REASON).length());
    }

    @Test
    void deadLettersOfADeadLetterTopicUnspecifiedStageOrBlankReasonAreRefused() {
        ConsumerRecord<byte[], byte[]> ok = consumed("image-codes", 0, 0L, null, new byte[0], new RecordHeaders());
        ConsumerRecord<byte[], byte[]> dlq = consumed("image-codes-dlq", 0, 0L, null, new byte[0], new RecordHeaders());
        assertThrows(IllegalArgumentException.class, () -> DeadLetters.record(dlq, Stage.STAGE_DECODER, "x", 0L));
        IllegalArgumentException stage = assertThrows(IllegalArgumentException.class,
                () -> DeadLetters.record(ok, Stage.STAGE_UNSPECIFIED, "x", 0L));
        assertTrue(stage.getMessage().contains("STAGE_UNSPECIFIED"), stage.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeadLetters.record(ok, Stage.STAGE_DECODER, " ", 0L));
    }
}
