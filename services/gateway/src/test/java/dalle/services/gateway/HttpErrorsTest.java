package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Errors the framework produces before any resource runs come back in OpenAI's error body
 * ({@code {"error":{"message","type","param","code"}}}) with their own status: 404, 405, 415, a body that is not
 * JSON or has a field of the wrong type (400, naming it), and 413 over a declared body limit (a chunked body over
 * the limit still gets Quarkus's own empty 413).
 */
@QuarkusTest
@WithTestResource(GatewayFakes.class)
class HttpErrorsTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void ready() throws Exception {
        GatewayTest.awaitReadiness(200);
    }

    private static HttpResponse<String> send(String method, String path, String contentType, String body,
                                             boolean expectContinue) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:18470" + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).expectContinue(expectContinue)
                .timeout(java.time.Duration.ofSeconds(30));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.header("Authorization", "Bearer " + GatewayFakes.ACME_KEY);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The OpenAI error of a response with {@code status}, after checking its shape. */
    private static JsonNode openAiError(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"),
                r.headers().map().toString());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertTrue(error != null && error.get("message").isTextual() && error.has("type"), r.body());
        assertEquals(status < 500 ? "invalid_request_error" : "server_error", error.get("type").asText(), r.body());
        return error;
    }

    @Test
    void anUnknownPathAndAWrongMethodAreInvalidUrls() throws Exception {
        JsonNode missing = openAiError(send("POST", "/v1/images/edits", "application/json", "{}", false), 404);
        assertEquals("Invalid URL (POST /v1/images/edits)", missing.get("message").asText());
        JsonNode method = openAiError(send("GET", "/v1/images/generations", null, null, false), 405);
        assertTrue(method.get("message").asText().startsWith("Invalid URL (GET /v1/images/generations)"),
                method.toString());
    }

    @Test
    void aBodyThatIsNotJsonIs415Or400() throws Exception {
        JsonNode type = openAiError(send("POST", "/v1/images/generations", "text/plain", "a red circle", false),
                415);
        assertTrue(type.get("message").asText().contains("text/plain"), type.toString());
        JsonNode broken = openAiError(send("POST", "/v1/images/generations", "application/json",
                "{\"prompt\": \"a red circle\",", false), 400);
        assertTrue(broken.get("message").asText().startsWith("the body is not valid JSON"), broken.toString());
        JsonNode wrongType = openAiError(send("POST", "/v1/images/generations", "application/json",
                "{\"prompt\": \"a red circle\", \"n\": \"two\"}", false), 400);
        assertEquals("n", wrongType.get("param").asText(), wrongType.toString());
        assertEquals("n: must be an integer, got the string \"two\"", wrongType.get("message").asText());
    }

    @Test
    void aFractionalNumberForAnIntegerFieldIs400NamingTheFieldNotTruncated() throws Exception {
        // Jackson's default read "n": 1.5 as 1 and answered 200 with one image
        for (String[] c : new String[][] {{"\"n\": 1.5", "n", "1.5"}, {"\"n\": 2.0", "n", "2.0"},
                {"\"seed\": 3.7", "seed", "3.7"}, {"\"sampling\": {\"top_k\": 2.5}", "sampling.top_k", "2.5"}}) {
            JsonNode e = openAiError(send("POST", "/v1/images/generations", "application/json",
                    "{\"prompt\": \"a red circle\", " + c[0] + "}", false), 400);
            assertEquals(c[1], e.get("param").asText(), e.toString());
            assertEquals(c[1] + ": must be an integer, got " + c[2], e.get("message").asText(), e.toString());
        }
    }

    @Test
    void aJobListLimitThatIsNotAnIntegerIs400NotAnUnknownUrl() throws Exception {
        // JAX-RS answers a query parameter that does not convert to its Integer with 404
        for (String limit : new String[] {"abc", "1.5", "0", "101"}) {
            JsonNode e = openAiError(send("GET", "/v1/jobs?limit=" + limit, null, null, false), 400);
            assertEquals("limit", e.get("param").asText(), e.toString());
            assertEquals("limit must be an integer 1..100, got '" + limit + "'", e.get("message").asText());
        }
    }

    @Test
    void tooManyImagesNameN() throws Exception {
        // candidates follow n when the caller gives none, so the error is n's, a field the caller sent
        JsonNode n = openAiError(send("POST", "/v1/images/generations", "application/json",
                "{\"prompt\": \"a red circle\", \"n\": 513}", false), 400);
        assertEquals("n", n.get("param").asText(), n.toString());
        assertEquals("n: 513 is outside 1..512", n.get("message").asText(), n.toString());
        JsonNode both = openAiError(send("POST", "/v1/images/generations", "application/json",
                "{\"prompt\": \"a red circle\", \"n\": 4, \"candidates\": 600}", false), 400);
        assertEquals("candidates", both.get("param").asText(), both.toString());
    }

    @Test
    void aBodyOverTheLimitIs413InOpenAisBodyWithOrWithoutExpectContinue() throws Exception {
        String big = "{\"prompt\":\"" + "x".repeat(100_000) + "\"}";
        JsonNode sent = openAiError(send("POST", "/v1/images/generations", "application/json", big, false), 413);
        assertTrue(sent.get("message").asText().contains("over this server's limit of 65536 bytes"), sent.toString());
        assertEquals("request_too_large", sent.get("code").asText());
        // Expect: 100-continue, as curl sends for large bodies: answered from the headers, the body never sent.
        // (A raw socket: the JDK 17 HttpClient waits forever on a final answer to Expect that has a body.)
        try (Socket socket = new Socket("127.0.0.1", 18470)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("POST /v1/images/generations HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100014\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            assertEquals("request_too_large", JSON.readTree(body).get("error").get("code").asText(), answer);
        }
    }
}
