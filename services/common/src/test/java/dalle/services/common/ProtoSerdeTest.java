package dalle.services.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dalle.v1.GenerationRequest;
import dalle.v1.SamplingParams;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** ProtoSerde in memory: exact round trips, and bad bytes reported without losing them. */
class ProtoSerdeTest {

    static GenerationRequest sampleRequest(String id) {
        return GenerationRequest.newBuilder().setRequestId(id).setCaption("a red circle above a blue square")
                .setCandidates(16).setTopK(4).setSeed(-42L)
                .setParams(SamplingParams.newBuilder().setTemperature(0.9f).setTopP(0.95f).build())
                .setSubmittedAtMs(1_717_200_000_000L).setDeadlineMs(1_717_200_060_000L).build();
    }

    /** The failure, or an assertion error if the bytes parsed. */
    static <T> Parsed.Failed<T> failed(Parsed<T> parsed) {
        if (parsed instanceof Parsed.Failed<T> f) {
            return f;
        }
        throw new AssertionError("expected a parse failure, got " + parsed);
    }

    @Test
    void serializeThenDeserializeGivesAnEqualMessage() {
        ProtoSerde<GenerationRequest> serde = ProtoSerde.of(GenerationRequest.class);
        GenerationRequest r = sampleRequest("req-1");
        byte[] bytes = serde.serializer().serialize("generation-requests", r);
        assertArrayEquals(r.toByteArray(), bytes);
        assertEquals(r, serde.deserializer().deserialize("generation-requests", bytes));
        assertEquals(r, serde.parse(bytes).value());
    }

    @Test
    void nullIsATombstoneForKafkaButAFailureForParse() {
        ProtoSerde<GenerationRequest> serde = ProtoSerde.of(GenerationRequest.class);
        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
        Parsed<GenerationRequest> parsed = serde.parse(null);
        assertFalse(parsed.isOk());
        assertInstanceOf(SerializationException.class, ((Parsed.Failed<GenerationRequest>) parsed).cause());
    }

    @Test
    void badBytesFailToParseWithTheTypeAndSizeAndWithoutThrowing() {
        ProtoSerde<GenerationRequest> serde = ProtoSerde.of(GenerationRequest.class);
        byte[] bad = "not a protobuf".getBytes(StandardCharsets.UTF_8);
        Parsed<GenerationRequest> parsed = serde.parse(bad);
        Parsed.Failed<GenerationRequest> failed = failed(parsed);
        assertTrue(failed.reason().startsWith("14 bytes are not a valid GenerationRequest: "), failed.reason());
        assertInstanceOf(InvalidProtocolBufferException.class, failed.cause());
        IllegalStateException noValue = assertThrows(IllegalStateException.class, parsed::value);
        assertEquals(failed.reason(), noValue.getMessage());
    }

    @Test
    void aKnownFieldWithTheWrongWireTypeFailsButAnUnknownFieldNumberIsKept() throws Exception {
        ProtoSerde<GenerationRequest> serde = ProtoSerde.of(GenerationRequest.class);
        // field 3 (candidates, int32) sent length-delimited: protobuf alone would keep it as an unknown field
        byte[] wrong = com.google.protobuf.ByteString.copyFromUtf8("abc").toByteArray();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        var coded = com.google.protobuf.CodedOutputStream.newInstance(out);
        coded.writeString(1, "req-1");
        coded.writeString(2, "a red circle");
        coded.writeByteArray(3, wrong);
        coded.flush();
        Parsed<GenerationRequest> p = serde.parse(out.toByteArray());
        Parsed.Failed<GenerationRequest> failed = assertInstanceOf(Parsed.Failed.class, p);
        assertTrue(failed.reason().contains("field 3 (candidates, int32) has the wrong wire type length-delimited"),
                failed.reason());

        // a nested message's field too: params.temperature (float, field 1 of SamplingParams) as a varint
        java.io.ByteArrayOutputStream nestedOut = new java.io.ByteArrayOutputStream();
        var nested = com.google.protobuf.CodedOutputStream.newInstance(nestedOut);
        nested.writeString(2, "a red circle");
        nested.writeByteArray(6, new byte[] {0x08, 0x05});
        nested.flush();
        Parsed.Failed<GenerationRequest> nestedFailed = assertInstanceOf(Parsed.Failed.class,
                serde.parse(nestedOut.toByteArray()));
        assertTrue(nestedFailed.reason().contains("(params."), nestedFailed.reason());

        // a field number the schema does not know (a newer producer's) is kept
        java.io.ByteArrayOutputStream newer = new java.io.ByteArrayOutputStream();
        var n = com.google.protobuf.CodedOutputStream.newInstance(newer);
        n.writeString(2, "a red circle");
        n.writeInt32(99, 7);
        n.flush();
        assertInstanceOf(Parsed.Ok.class, serde.parse(newer.toByteArray()));
    }

    @Test
    void deserializeThrowsSerializationExceptionNamingTheTopic() {
        ProtoSerde<GenerationRequest> serde = ProtoSerde.of(GenerationRequest.class);
        SerializationException e = assertThrows(SerializationException.class,
                () -> serde.deserialize("generation-requests", new byte[] {0x0A, (byte) 0xFF}));
        assertTrue(e.getMessage().startsWith("record on generation-requests: 2 bytes are not a valid GenerationRequest"),
                e.getMessage());
        assertInstanceOf(InvalidProtocolBufferException.class, e.getCause());
    }

    @Test
    void aClassThatIsNotAGeneratedMessageIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProtoSerde.of(Message.class));
        assertEquals("com.google.protobuf.Message is not a generated protobuf message class", e.getMessage());
    }
}
