package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/images/generations/stream}: server-sent progress events of every stage, then the result (the
 * generations body); a bad field is a plain 400 before the stream starts.
 */
@QuarkusTest
@WithTestResource(GatewayFakes.class)
class GenerationStreamTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void ready() throws Exception {
        GatewayTest.awaitReadiness(200);
    }

    /** The events of an SSE body: name and parsed data. */
    private static List<Object[]> events(String body) throws Exception {
        List<Object[]> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).strip());
                }
            }
            if (name != null) {
                out.add(new Object[] {name, JSON.readTree(data.toString())});
            }
        }
        return out;
    }

    @Test
    void progressOfEveryStageComesBeforeTheRankedResult() throws Exception {
        HttpResponse<String> r = GatewayTest.post("/v1/images/generations/stream",
                "{\"prompt\":\"a red circle\",\"n\":2,\"candidates\":3,\"seed\":4}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        List<Object[]> events = events(r.body());
        Object[] last = events.get(events.size() - 1);
        assertEquals("result", last[0], r.body());
        JsonNode result = (JsonNode) last[1];
        assertEquals(2, result.get("data").size());
        assertEquals(2, result.get("data").get(0).get("candidate_index").asInt());
        assertEquals(4, result.get("seed").asLong());
        List<String> stagesDone = new ArrayList<>();
        for (Object[] e : events.subList(0, events.size() - 1)) {
            assertEquals("progress", e[0]);
            JsonNode p = (JsonNode) e[1];
            assertEquals(result.get("request_id").asText(), p.get("request_id").asText());
            assertEquals(3, p.get("candidates_total").asInt());
            if (p.get("status").asText().equals("succeeded")) {
                stagesDone.add(p.get("stage").asText());
            }
        }
        assertEquals(List.of("tokenizer", "sampler", "decoder", "reranker"), stagesDone);
    }

    @Test
    void aBadFieldIsAPlain400BeforeTheStreamStarts() throws Exception {
        HttpResponse<String> r = GatewayTest.post("/v1/images/generations/stream",
                "{\"prompt\":\"a red circle\",\"sampling\":{\"top_p\":1.5}}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("sampling.top_p", JSON.readTree(r.body()).get("error").get("param").asText());
    }
}
