package dalle.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Every Kafka payload survives serialize -> parse unchanged. The samples set every field (checked),
 * so a field added later without a sample value fails here instead of going untested.
 */
class KafkaPayloadRoundTripTest {

    private static final long SUBMITTED = 1_717_200_000_000L;

    /** One fully populated sample of every payload in the topic table, by message name. */
    static Map<String, Message> samples() {
        SamplingParams params = SamplingParams.newBuilder()
                .setTemperature(0.9f).setTopK(64).setTopP(0.95f).setGuidanceScale(3f).build();
        GenerationContext context = GenerationContext.newBuilder()
                .setCaption("a red circle above a blue square")
                .addAllTextTokens(IntStream.range(0, 32).boxed().toList())
                .setCandidates(16).setTopK(4).setSeed(-42L)
                .setSubmittedAtMs(SUBMITTED).setDeadlineMs(SUBMITTED + 60_000)
                .setBundleVersion("tiny-3f9a1c2e").build();
        CodeGrid grid = CodeGrid.newBuilder()
                .setGridSize(8).addAllCodes(IntStream.range(0, 64).map(i -> (i * 37) % 512).boxed().toList()).build();
        Image image = Image.newBuilder()
                .setPng(ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, -1})).setWidth(64).setHeight(64).build();
        Failure failure = Failure.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_INVALID_ARGUMENT).setMessage("caption is blank")
                .setStage(Stage.STAGE_TOKENIZER).setField("caption").build();

        Map<String, Message> samples = new LinkedHashMap<>();
        samples.put("GenerationRequest", GenerationRequest.newBuilder()
                .setRequestId("req-1").setCaption(context.getCaption()).setCandidates(16).setTopK(4)
                .setSeed(-42L).setParams(params).setSubmittedAtMs(SUBMITTED).setDeadlineMs(SUBMITTED + 60_000).build());
        samples.put("TokenizedRequest", TokenizedRequest.newBuilder()
                .setRequestId("req-1").setContext(context).setParams(params).build());
        samples.put("ImageCodes", ImageCodes.newBuilder()
                .setRequestId("req-1").setCandidateIndex(7).setContext(context).setGrid(grid).build());
        samples.put("CandidateImage", CandidateImage.newBuilder()
                .setRequestId("req-1").setCandidateIndex(7).setContext(context).setImage(image).build());
        samples.put("CandidateScore", CandidateScore.newBuilder()
                .setRequestId("req-1").setCandidateIndex(7).setContext(context).setScore(-0.25f).setImage(image).build());
        samples.put("GenerationResult", GenerationResult.newBuilder()
                .setRequestId("req-1").setCaption(context.getCaption()).setSeed(-42L)
                .addImages(RankedImage.newBuilder().setRank(1).setCandidateIndex(7).setScore(31.5f).setImage(image))
                .addImages(RankedImage.newBuilder().setRank(2).setCandidateIndex(3).setScore(29f).setImage(image))
                .setBundleVersion("tiny-3f9a1c2e").setError(failure)
                .setSubmittedAtMs(SUBMITTED).setCompletedAtMs(SUBMITTED + 1_234).build());
        samples.put("GenerationEvent", GenerationEvent.newBuilder()
                .setRequestId("req-1").setStage(Stage.STAGE_DECODER).setStatus(StageStatus.STAGE_STATUS_FAILED)
                .setCandidatesDone(5).setCandidatesTotal(16).setMessage("code 9000 outside the codebook")
                .setTimestampMs(SUBMITTED + 500).setError(failure).build());
        return samples;
    }

    @Test
    void everyPayloadSurvivesSerializeThenParseUnchanged() throws InvalidProtocolBufferException {
        for (Map.Entry<String, Message> sample : samples().entrySet()) {
            Message original = sample.getValue();
            byte[] bytes = original.toByteArray();

            Message parsed = original.getParserForType().parseFrom(bytes);

            assertEquals(original, parsed, sample.getKey());
            assertTrue(parsed.getUnknownFields().asMap().isEmpty(), sample.getKey() + " has unknown fields");
        }
    }

    @Test
    void samplesSetEveryFieldSoTheRoundTripCoversThemAll() {
        List<String> unset = new ArrayList<>();
        samples().forEach((name, message) -> collectUnset(name, message, unset));
        assertEquals(List.of(), unset, "fields the round-trip samples leave at their default");
    }

    @Test
    void samplesCoverExactlyThePayloadsOfTheTopicTable() {
        TreeSet<String> inTable = new TreeSet<>();
        Pattern row = Pattern.compile("^//\\s*\\|\\s*([a-z<>-]+)\\s*\\|\\s*([A-Za-z ]+?)\\s*\\|");
        for (String line : ProtoSource.lines(Path.of("src/main/proto/dalle/v1/events.proto"))) {
            Matcher m = row.matcher(line.trim());
            if (m.find() && !m.group(1).equals("topic") && !m.group(2).equals("original bytes")) {
                assertNotNull(EventsProto.getDescriptor().findMessageTypeByName(m.group(2)),
                        "topic " + m.group(1) + " names " + m.group(2) + ", which events.proto does not define");
                inTable.add(m.group(2));
            }
        }
        assertEquals(7, inTable.size(), "payloads found in the topic table: " + inTable);
        assertEquals(inTable, new TreeSet<>(samples().keySet()));
    }

    @Test
    void seedZeroStaysDistinctFromNoSeedAfterTheRoundTrip() throws InvalidProtocolBufferException {
        GenerationRequest zero = GenerationRequest.newBuilder().setRequestId("a").setCaption("c").setSeed(0).build();
        GenerationRequest none = GenerationRequest.newBuilder().setRequestId("a").setCaption("c").build();

        assertTrue(GenerationRequest.parseFrom(zero.toByteArray()).hasSeed());
        assertFalse(GenerationRequest.parseFrom(none.toByteArray()).hasSeed());
        assertFalse(GenerationRequest.parseFrom(none.toByteArray()).hasDeadlineMs());
    }

    /** Adds "path" for every field of {@code message} (recursively) that is unset or empty. */
    private static void collectUnset(String path, Message message, List<String> unset) {
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            String fieldPath = path + "." + field.getName();
            if (field.isRepeated()) {
                int count = message.getRepeatedFieldCount(field);
                if (count == 0) {
                    unset.add(fieldPath);
                } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                    for (int i = 0; i < count; i++) {
                        collectUnset(fieldPath + "[" + i + "]", (Message) message.getRepeatedField(field, i), unset);
                    }
                }
            } else if (!message.hasField(field)) {
                unset.add(fieldPath);
            } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                collectUnset(fieldPath, (Message) message.getField(field), unset);
            }
        }
    }
}
