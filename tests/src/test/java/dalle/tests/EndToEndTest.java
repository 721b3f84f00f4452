package dalle.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import dalle.cli.ServicesStack;
import dalle.core.bundle.ModelBundle;
import dalle.core.pipeline.Candidate;
import dalle.core.pipeline.Generation;
import dalle.core.pipeline.Pipeline;
import dalle.services.common.DeadLetters;
import dalle.services.common.Parsed;
import dalle.services.common.Topics;
import dalle.v1.DecoderGrpc;
import dalle.v1.GatewayGrpc;
import dalle.v1.GenerateProgress;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationRequest;
import dalle.v1.GenerationResult;
import dalle.v1.ImageCodes;
import dalle.v1.RankedImage;
import dalle.v1.SampleRequest;
import dalle.v1.SamplerGrpc;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The platform across processes, as users reach it: a real KRaft broker and the five services, each its own OS
 * process started from the packaged quarkus-app with {@code dalle up}'s command lines, serving an untrained bundle
 * written here; clients are a plain KafkaProducer/KafkaConsumer and grpc-java stubs. The stack starts once for
 * all the nested classes.
 */
class EndToEndTest {

    static final Duration RESULTS_TIMEOUT = Duration.ofSeconds(120);
    static final Duration SETTLE = Duration.ofSeconds(3);

    static Path bundle;
    static ServicesStack stack;
    static ManagedChannel gateway;
    static KafkaProducer<String, byte[]> producer;
    /** Where every service of this stack exports its spans ({@link TraceContext}). */
    static OtlpReceiver traces;

    @BeforeAll
    static void startStack() throws Exception {
        Path dir = Stack.freshDir();
        bundle = dir.resolve("bundle");
        E2eBundle.write(bundle);
        traces = OtlpReceiver.start();
        stack = Stack.start(dir.resolve("run"), bundle, Stack.SERVICE_OPTIONS, traces.jvmOptions());
        gateway = channel("gateway");
        producer = Topic.producer(stack.bootstrap());
    }

    /**
     * W3C trace context across processes: the services export to {@link OtlpReceiver}; one HTTP call is one trace,
     * rooted at the gateway's HTTP server span, holding spans of every service with every parent in the trace —
     * through the gateway's gRPC calls to the stages (synchronous) and through every Kafka hop (a job), where every
     * record of the job, on every topic, carries the trace's {@code traceparent}.
     */
    @Nested
    class TraceContext {

        private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

        private java.net.http.HttpResponse<String> post(String path, String json) throws Exception {
            return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:"
                            + stack.httpPort("gateway") + path)).header("Authorization", "Bearer " + apiKey())
                    .header("Content-Type", "application/json").timeout(RESULTS_TIMEOUT)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        }

        @Test
        void aJobPostedOverHttpIsOneTraceThroughEveryKafkaHopAndEveryRecordCarriesIt() throws Exception {
            var posted = post("/v1/jobs", "{\"prompt\":\"a red square\",\"n\":1,\"candidates\":1,"
                    + "\"request_id\":\"e2e-trace-job\"}");
            assertEquals(202, posted.statusCode(), posted.body());
            String key = "local:e2e-trace-job";
            awaitResults(Set.of(key), 1);
            // the request record names the trace; every record of the job, on every topic, carries it
            String traceId = null;
            for (var topic : List.of(Topics.GENERATION_REQUESTS, Topics.TOKENIZED_REQUESTS, Topics.IMAGE_CODES,
                    Topics.CANDIDATE_IMAGES, Topics.CANDIDATE_SCORES, Topics.GENERATION_RESULTS,
                    Topics.GENERATION_EVENTS)) {
                List<ConsumerRecord<String, byte[]>> records = Topic.read(stack.bootstrap(), topic.name(),
                        Set.of(key), RESULTS_TIMEOUT, Duration.ZERO).get(key);
                assertTrue(records != null && !records.isEmpty(), "no record of " + key + " on " + topic.name());
                for (ConsumerRecord<String, byte[]> r : records) {
                    String parent = OtlpReceiver.traceparent(r.headers());
                    assertTrue(parent != null && parent.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01"),
                            topic.name() + " record " + r.offset() + " has traceparent " + parent);
                    traceId = traceId == null ? parent.substring(3, 35) : traceId;
                    assertEquals(traceId, parent.substring(3, 35), topic.name() + ": one trace for the whole job");
                }
            }
            List<OtlpReceiver.Received> trace = traces.awaitTree(traceId, "POST /v1/jobs", ServicesStack.SERVICES,
                    Duration.ofSeconds(30));
            // each stage consumed its input in a span that is a child of the previous hop's publish span
            for (var hop : List.of(List.of("tokenizer", Topics.GENERATION_REQUESTS.name()),
                    List.of("sampler", Topics.TOKENIZED_REQUESTS.name()),
                    List.of("decoder", Topics.IMAGE_CODES.name()),
                    List.of("reranker", Topics.CANDIDATE_IMAGES.name()))) {
                OtlpReceiver.Received consume = trace.stream().filter(s -> s.service().endsWith(hop.get(0))
                        && s.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CONSUMER
                        && s.name().equals(hop.get(1) + " process")).findFirst().orElseThrow(() -> new AssertionError(
                        "no '" + hop.get(1) + " process' span of the " + hop.get(0) + " in " + trace));
                OtlpReceiver.Received parent = trace.stream().filter(s -> s.spanId().equals(consume.parentId()))
                        .findFirst().orElseThrow();
                assertEquals(hop.get(1) + " publish", parent.name(), consume + "'s parent is " + parent);
                assertEquals(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_PRODUCER, parent.kind());
            }
            assertEquals(List.of(), traces.errors(), "every export was taken");
        }

        @Test
        void aGenerationPostedOverHttpIsOneTraceThroughTheGatewaysGrpcCallsToEveryStage() throws Exception {
            var posted = post("/v1/images/generations", "{\"prompt\":\"a blue circle\",\"n\":1,\"candidates\":1,"
                    + "\"request_id\":\"e2e-trace-sync\"}");
            assertEquals(200, posted.statusCode(), posted.body());
            String traceId = traces.awaitRoot("gateway", "POST /v1/images/generations", Duration.ofSeconds(30));
            List<OtlpReceiver.Received> trace = traces.awaitTree(traceId, "POST /v1/images/generations",
                    ServicesStack.SERVICES, Duration.ofSeconds(30));
            for (String stage : List.of("tokenizer", "sampler", "decoder", "reranker")) {
                OtlpReceiver.Received server = trace.stream().filter(s -> s.service().endsWith(stage)
                        && s.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER)
                        .findFirst().orElseThrow(() -> new AssertionError("no gRPC server span of the " + stage
                                + " in " + trace));
                OtlpReceiver.Received client = trace.stream().filter(s -> s.spanId().equals(server.parentId()))
                        .findFirst().orElseThrow();
                assertTrue(client.service().endsWith("gateway")
                        && client.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT,
                        server + "'s parent is the gateway's client call, not " + client);
            }
        }

        @Test
        void theThinPathsScoreCallJoinsTheCallersTraceThroughTheDecoder() throws Exception {
            // the caller's own trace (W3C traceparent on the gRPC call), on the thin path: the gateway calls the
            // decoder's DecodeAndScore, and the decoder calls the reranker's Score itself
            java.util.SplittableRandom rng = new java.util.SplittableRandom();
            String traceId = String.format("%016x%016x", rng.nextLong(), rng.nextLong());
            io.grpc.Metadata h = new io.grpc.Metadata();
            h.put(io.grpc.Metadata.Key.of("traceparent", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
                    "00-" + traceId + "-" + String.format("%016x", rng.nextLong() | 1) + "-01");
            h.put(io.grpc.Metadata.Key.of("dalle-sync-path", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "thin");
            GatewayGrpc.newBlockingStub(gateway).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h))
                    .withDeadlineAfter(60, TimeUnit.SECONDS).generate(GenerateRequest.newBuilder()
                            .setCaption("a red circle").setCandidates(2).setTopK(1).build());
            // the services export in batches: wait until the reranker's span and three generations of its
            // ancestors have arrived (or 30 s)
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<OtlpReceiver.Received> trace = traces.trace(traceId);
            while (System.nanoTime() < end && ancestors(trace, "reranker") < 3) {
                Thread.sleep(100);
                trace = traces.trace(traceId);
            }
            List<OtlpReceiver.Received> spans = trace;
            OtlpReceiver.Received score = spans.stream().filter(s -> s.service().endsWith("reranker")
                    && s.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER).findFirst()
                    .orElseThrow(() -> new AssertionError("no server span of the reranker in trace " + traceId + ": "
                            + spans));
            java.util.function.Function<OtlpReceiver.Received, OtlpReceiver.Received> parent = s -> spans.stream()
                    .filter(p -> p.spanId().equals(s.parentId())).findFirst()
                    .orElseThrow(() -> new AssertionError(s + "'s parent is not in the trace: " + spans));
            OtlpReceiver.Received call = parent.apply(score);
            assertTrue(call.service().endsWith("decoder")
                    && call.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT,
                    score + "'s parent is the decoder's client call, not " + call);
            OtlpReceiver.Received decodeAndScore = parent.apply(call);
            assertTrue(decodeAndScore.service().endsWith("decoder")
                    && decodeAndScore.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER
                    && decodeAndScore.name().endsWith("DecodeAndScore"), call + " is inside " + decodeAndScore);
            OtlpReceiver.Received gatewayCall = parent.apply(decodeAndScore);
            assertTrue(gatewayCall.service().endsWith("gateway")
                    && gatewayCall.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT,
                    decodeAndScore + "'s parent is the gateway's client call, not " + gatewayCall);
        }

        /** How many ancestors of {@code service}'s first server span in {@code trace} are in it, one after another. */
        private static int ancestors(List<OtlpReceiver.Received> trace, String service) {
            OtlpReceiver.Received s = trace.stream().filter(x -> x.service().endsWith(service)
                    && x.kind() == io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER).findFirst()
                    .orElse(null);
            int n = -1;
            while (s != null) {
                n++;
                String parentId = s.parentId();
                s = trace.stream().filter(x -> x.spanId().equals(parentId)).findFirst().orElse(null);
            }
            return n;
        }

        @Test
        void aJobSubmittedOverGrpcIsOneTraceFromTheGatewaysGrpcSpanThroughKafka() throws Exception {
            GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(60, TimeUnit.SECONDS).submitJob(GenerateRequest
                    .newBuilder().setCaption("a green circle").setCandidates(1).setTopK(1)
                    .setRequestId("e2e-trace-grpc-job").build());
            String key = "local:e2e-trace-grpc-job";
            ConsumerRecord<String, byte[]> result = awaitResults(Set.of(key), 1).get(key).get(0);
            String parent = OtlpReceiver.traceparent(result.headers());
            assertTrue(parent != null, "the result carries the job's trace");
            traces.awaitTree(parent.substring(3, 35), "dalle.v1.Gateway/SubmitJob", ServicesStack.SERVICES,
                    Duration.ofSeconds(30));
        }
    }

    /**
     * A second tenant cannot see the first's job, even by its id, and has ids of its own: its job with the same id
     * is another job, queued and answered on its own (the pipeline carries both as tenant:id); its job list holds
     * its own job only.
     */
    @org.junit.jupiter.api.Nested
    class Tenants {
        @Test
        void aTenantSeesOnlyItsOwnJobsAndChoosesItsOwnIds() throws Exception {
            String other = dalle.services.common.auth.ApiKeys.newKey();
            java.nio.file.Files.writeString(stack.keysFile(), dalle.services.common.auth.ApiKeys.line(other, "other",
                    "e2e") + "\n", java.nio.file.StandardOpenOption.APPEND);
            var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                    .connectTimeout(java.time.Duration.ofSeconds(10)).build();
            String base = "http://localhost:" + stack.httpPort("gateway");
            String body = "{\"prompt\":\"a blue circle\",\"n\":1,\"candidates\":2,\"request_id\":\"e2e-tenant-job\"}";
            java.util.function.BiFunction<String, String, java.net.http.HttpResponse<String>> post = (key, json) -> {
                try {
                    return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/jobs"))
                            .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                            .timeout(java.time.Duration.ofSeconds(30)).POST(java.net.http.HttpRequest.BodyPublishers
                                    .ofString(json)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            assertEquals(202, post.apply(apiKey(), body).statusCode());
            // the keys file is re-read within seconds (dalle.auth.reload-interval)
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            java.net.http.HttpResponse<String> seen = null;
            while (System.nanoTime() < end) {
                seen = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base
                        + "/v1/jobs/e2e-tenant-job")).header("Authorization", "Bearer " + other)
                        .timeout(java.time.Duration.ofSeconds(30)).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                if (seen.statusCode() != 401) {
                    break;
                }
                Thread.sleep(250);
            }
            assertEquals(404, seen.statusCode(), "another tenant's job is not found: " + seen.body());
            ManagedChannel plain = ManagedChannelBuilder.forAddress("localhost", stack.grpcPort("gateway"))
                    .usePlaintext().build();
            try {
                StatusRuntimeException grpc = assertThrows(StatusRuntimeException.class, () -> GatewayGrpc
                        .newBlockingStub(plain).withInterceptors(withKey(other)).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .getJob(dalle.v1.GetJobRequest.newBuilder().setJobId("e2e-tenant-job").build()));
                assertEquals(Status.Code.NOT_FOUND, grpc.getStatus().getCode(), grpc.getStatus().toString());
                dalle.v1.Job own = GatewayGrpc.newBlockingStub(plain).withInterceptors(withKey(apiKey()))
                        .withDeadlineAfter(30, TimeUnit.SECONDS).getJob(dalle.v1.GetJobRequest.newBuilder()
                                .setJobId("e2e-tenant-job").build());
                assertEquals("e2e-tenant-job", own.getJobId(), "the owner reads its job under its own id");
                assertFalse(own.getState() == dalle.v1.JobState.JOB_STATE_UNSPECIFIED, own.toString());
            } finally {
                plain.shutdownNow();
            }
            assertEquals(202, post.apply(other, body).statusCode(), "the same id is the other tenant's own job");
            Map<String, List<ConsumerRecord<String, byte[]>>> results = awaitResults(
                    Set.of("local:e2e-tenant-job", "other:e2e-tenant-job"), 1);
            assertEquals(2, results.size(), "two jobs, one per tenant: " + results.keySet());
            // GET /v1/jobs: the other tenant lists exactly its own job, under its own id
            java.net.http.HttpResponse<String> listed = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(base + "/v1/jobs?limit=100")).header("Authorization", "Bearer " + other)
                    .timeout(java.time.Duration.ofSeconds(30)).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, listed.statusCode(), listed.body());
            assertTrue(listed.body().startsWith("{\"object\":\"list\",\"data\":[{\"id\":\"e2e-tenant-job\""),
                    listed.body());
            assertEquals(1, listed.body().split("\"id\":", -1).length - 1, "one job only: " + listed.body());
            assertFalse(listed.body().contains("local:"), listed.body());
        }
    }

    /**
     * Two gateway replicas sharing the status view (as the base Deployment's two): each holds the jobs of its own
     * partitions, and each answers GetJob and GET /v1/jobs/{id} for every job, asking the other for the ones it does
     * not hold, and ListJobs with the jobs of both. Before, a replica answered 404 or a stale state for the other's
     * jobs.
     */
    @Nested
    class GatewayReplicas {
        @Test
        void everyReplicaAnswersForEveryJob() throws Exception {
            int http2 = ServicesStack.freePort();
            int grpc2 = ServicesStack.freePort();
            int management2 = ServicesStack.freePort();
            Set<String> firstGateways = staticMembers();
            Process replica = stack.startGatewayReplica(http2, grpc2, management2);
            ManagedChannel second = ManagedChannelBuilder.forAddress("localhost", grpc2).usePlaintext()
                    .maxInboundMessageSize(64 << 20).intercept(withKey(apiKey())).build();
            try (var admin = org.apache.kafka.clients.admin.Admin.create(java.util.Map.of(
                    org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap()))) {
                // the replica is ready, and both replicas own partitions of the status view
                long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                int owners = 0;
                while (System.nanoTime() < end) {
                    assertTrue(replica.isAlive(), "the second gateway exited; see its log in target/e2e/run/logs");
                    var group = admin.describeConsumerGroups(List.of("dalle-status-view")).all().get()
                            .get("dalle-status-view");
                    owners = (int) group.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty())
                            .count();
                    if (owners == 2 && group.groupState() == org.apache.kafka.common.GroupState.STABLE
                            && Stack.ready(management2)) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertEquals(2, owners, "both replicas hold partitions of the status view");
                Set<String> ids = new LinkedHashSet<>();
                for (int i = 0; i < 6; i++) {
                    String id = "e2e-replica-job-" + i;
                    ids.add(id);
                    GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(60, TimeUnit.SECONDS).submitJob(
                            GenerateRequest.newBuilder().setRequestId(id).setCaption("a red square").setCandidates(2)
                                    .setTopK(1).build());
                }
                Set<String> scoped = new LinkedHashSet<>();
                ids.forEach(id -> scoped.add("local:" + id));
                awaitResults(scoped, 1);
                for (String id : ids) {
                    for (ManagedChannel c : List.of(gateway, second)) {
                        dalle.v1.Job job = null;
                        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                        while (System.nanoTime() < until) {
                            job = GatewayGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
                                    .getJob(dalle.v1.GetJobRequest.newBuilder().setJobId(id).build());
                            if (job.getState() == dalle.v1.JobState.JOB_STATE_SUCCEEDED) {
                                break;
                            }
                            Thread.sleep(200);
                        }
                        assertEquals(dalle.v1.JobState.JOB_STATE_SUCCEEDED, job.getState(), id + " on " + c.authority());
                        assertEquals(id, job.getJobId());
                        assertEquals(1, job.getResult().getImagesCount(), id + " on " + c.authority());
                    }
                }
                // ListJobs on either replica: the caller's jobs from both stores, each once, newest first, in pages
                for (ManagedChannel c : List.of(gateway, second)) {
                    List<dalle.v1.Job> listed = new java.util.ArrayList<>();
                    String token = "";
                    int pages = 0;
                    do {
                        var page = GatewayGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS).listJobs(
                                dalle.v1.ListJobsRequest.newBuilder().setPageSize(4).setPageToken(token).build());
                        assertTrue(page.getJobsCount() <= 4, page.toString());
                        listed.addAll(page.getJobsList());
                        token = page.getNextPageToken();
                        pages++;
                    } while (!token.isEmpty() && pages < 100);
                    List<String> listedIds = listed.stream().map(dalle.v1.Job::getJobId).toList();
                    assertEquals(listedIds.size(), Set.copyOf(listedIds).size(), "each job once: " + listedIds);
                    assertTrue(listedIds.containsAll(ids), c.authority() + " lists every job of both replicas: "
                            + listedIds);
                    for (int i = 1; i < listed.size(); i++) {
                        assertTrue(listed.get(i - 1).getSubmittedAtMs() >= listed.get(i).getSubmittedAtMs(),
                                "newest first: " + listedIds);
                    }
                    for (dalle.v1.Job j : listed) {
                        if (ids.contains(j.getJobId())) {
                            assertEquals(dalle.v1.JobState.JOB_STATE_SUCCEEDED, j.getState(), j.getJobId());
                            assertEquals(1, j.getResult().getImagesCount(), j.getJobId());
                            assertTrue(j.getResult().getImages(0).getImage().getPng().isEmpty(),
                                    "listed without image bytes");
                        }
                    }
                }
                var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                        .build();
                for (String id : ids) {
                    var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:"
                            + http2 + "/v1/jobs/" + id)).header("Authorization", "Bearer " + apiKey())
                            .timeout(Duration.ofSeconds(30)).GET().build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertTrue(r.statusCode() == 200 && r.body().contains("\"state\":\"succeeded\""), id + ": "
                            + r.body());
                }
            } finally {
                second.shutdownNow();
                replica.destroy();
                replica.onExit().get(60, TimeUnit.SECONDS);
                removeStaticMembersBut(firstGateways);
            }
        }

        private static final List<String> GATEWAY_GROUPS = List.of("dalle-status-view", "dalle-fan-in");

        private org.apache.kafka.clients.admin.Admin admin() {
            return org.apache.kafka.clients.admin.Admin.create(java.util.Map.of(
                    org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap()));
        }

        /** The group.instance.ids of the gateway's Streams groups' members now. */
        private Set<String> staticMembers() throws Exception {
            try (var admin = admin()) {
                Set<String> ids = new LinkedHashSet<>();
                admin.describeConsumerGroups(GATEWAY_GROUPS).all().get().values().forEach(g -> g.members()
                        .forEach(m -> m.groupInstanceId().ifPresent(ids::add)));
                return ids;
            }
        }

        /**
         * Ends the stopped replica's static memberships now and waits for the groups to settle: a static member that
         * stops stays in its group until its session times out, and the rebalance that follows hit whichever test
         * ran then (its job calls answered UNAVAILABLE, "rebalancing").
         */
        private void removeStaticMembersBut(Set<String> keep) throws Exception {
            try (var admin = admin()) {
                for (var g : admin.describeConsumerGroups(GATEWAY_GROUPS).all().get().values()) {
                    List<org.apache.kafka.clients.admin.MemberToRemove> gone = g.members().stream()
                            .filter(m -> m.groupInstanceId().isPresent() && !keep.contains(m.groupInstanceId().get()))
                            .map(m -> new org.apache.kafka.clients.admin.MemberToRemove(m.groupInstanceId().get()))
                            .toList();
                    if (!gone.isEmpty()) {
                        admin.removeMembersFromConsumerGroup(g.groupId(),
                                new org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions(gone))
                                .all().get(30, TimeUnit.SECONDS);
                    }
                }
                long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (System.nanoTime() < end) {
                    var groups = admin.describeConsumerGroups(GATEWAY_GROUPS).all().get().values();
                    if (groups.stream().allMatch(g -> g.groupState() == org.apache.kafka.common.GroupState.STABLE
                            && g.members().stream().allMatch(m -> m.groupInstanceId().map(keep::contains)
                                    .orElse(true)))) {
                        break;
                    }
                    Thread.sleep(250);
                }
            }
            // and the first gateway's status view answers again
            long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (System.nanoTime() < end) {
                try {
                    GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(10, TimeUnit.SECONDS).getJob(
                            dalle.v1.GetJobRequest.newBuilder().setJobId("e2e-replica-job-0").build());
                    return;
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                        return;
                    }
                    Thread.sleep(250);
                }
            }
        }
    }

    /**
     * A stage with TLS switched on by Quarkus' own keys only (certificates as a cert-manager Secret holds them):
     * its gRPC server takes only TLS with a client certificate of the trusted CA (mutual TLS), its HTTP server only
     * HTTPS. The tokenizer stands for every service: they share the same Quarkus server set-up.
     */
    @Nested
    class TlsServers {
        @Test
        void aStageServesMutualTlsGrpcAndHttpsFromQuarkusKeysAlone() throws Exception {
            Path dir = Files.createDirectories(Path.of("target", "e2e", "tls").toAbsolutePath());
            var server = dalle.services.common.tls.TestCertificates.selfSigned(dir, "tokenizer",
                    "SAN=DNS:localhost,IP:127.0.0.1");
            var client = dalle.services.common.tls.TestCertificates.selfSigned(dir, "gateway", null);
            // the separate gRPC server reads client CAs from a PKCS#12/JKS trust store with a password, not PEM
            Path clientCas = dalle.services.common.tls.TestCertificates.trustStore(dir, "gateway",
                    client.certificate(), "changeit");
            int grpc = ServicesStack.freePort();
            int https = ServicesStack.freePort();
            int http = ServicesStack.freePort();
            int management = ServicesStack.freePort();
            Path jar = Path.of(System.getProperty("dalle.services.dir", "../services"))
                    .resolve("tokenizer/target/quarkus-app/quarkus-run.jar").toAbsolutePath();
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                    "-Ddalle.model=" + bundle.toAbsolutePath(), "-Ddalle.kafka.enabled=false",
                    "-Dquarkus.grpc.server.port=" + grpc, "-Dquarkus.http.port=" + http,
                    "-Dquarkus.management.port=" + management,
                    "-Dquarkus.grpc.server.ssl.certificate=" + server.certificate(),
                    "-Dquarkus.grpc.server.ssl.key=" + server.key(),
                    "-Dquarkus.grpc.server.ssl.trust-store=" + clientCas,
                    "-Dquarkus.grpc.server.ssl.trust-store-type=pkcs12", // lower case: Quarkus compares it as is
                    "-Dquarkus.grpc.server.ssl.trust-store-password=changeit",
                    "-Dquarkus.grpc.server.ssl.client-auth=REQUIRED",
                    "-Dquarkus.http.ssl-port=" + https,
                    "-Dquarkus.http.ssl.certificate.files=" + server.certificate(),
                    "-Dquarkus.http.ssl.certificate.key-files=" + server.key(),
                    "-Dquarkus.http.insecure-requests=disabled", "-jar", jar.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("tokenizer.log").toFile()).start();
            ManagedChannel mtls = io.grpc.Grpc.newChannelBuilderForAddress("localhost", grpc,
                    io.grpc.TlsChannelCredentials.newBuilder().trustManager(server.certificate().toFile())
                            .keyManager(client.certificate().toFile(), client.key().toFile()).build()).build();
            ManagedChannel noCert = io.grpc.Grpc.newChannelBuilderForAddress("localhost", grpc,
                    io.grpc.TlsChannelCredentials.newBuilder().trustManager(server.certificate().toFile()).build())
                    .build();
            ManagedChannel plain = ManagedChannelBuilder.forAddress("localhost", grpc).usePlaintext().build();
            try {
                var info = dalle.v1.GetModelInfoRequest.getDefaultInstance();
                long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                dalle.v1.ModelInfo served = null;
                while (served == null && System.nanoTime() < end) {
                    assertTrue(p.isAlive(), "the tokenizer exited; see " + dir.resolve("tokenizer.log"));
                    try {
                        served = TokenizerGrpc.newBlockingStub(mtls).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .getModelInfo(info);
                    } catch (StatusRuntimeException e) {
                        Thread.sleep(500);
                    }
                }
                assertTrue(served != null && !served.getBundleVersion().isEmpty(), "mutual TLS reaches the stage");
                assertTrue(TokenizerGrpc.newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .tokenize(TokenizeRequest.newBuilder().setRequestId("tls-1").setCaption("a red circle")
                                .build()).getPaddedIdsCount() > 0, "a call over mutual TLS is answered");
                assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class, () -> TokenizerGrpc
                        .newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS).getModelInfo(info))
                        .getStatus().getCode(), "plaintext is refused");
                assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class, () -> TokenizerGrpc
                        .newBlockingStub(noCert).withDeadlineAfter(10, TimeUnit.SECONDS).getModelInfo(info))
                        .getStatus().getCode(), "TLS without a client certificate is refused");
                // HTTPS with the server's certificate trusted; plain HTTP is not served
                java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                try (var in = Files.newInputStream(server.certificate())) {
                    trust.setCertificateEntry("tokenizer", java.security.cert.CertificateFactory.getInstance("X.509")
                            .generateCertificate(in));
                }
                var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory
                        .getDefaultAlgorithm());
                tmf.init(trust);
                var ssl = javax.net.ssl.SSLContext.getInstance("TLS");
                ssl.init(null, tmf.getTrustManagers(), null);
                // (health and metrics are on the management port, plain HTTP for the kubelet and Prometheus: the
                // public port answers 404 there, over TLS with the server's certificate)
                var overTls = java.net.http.HttpClient.newBuilder().sslContext(ssl).build().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://localhost:" + https
                                + "/q/health/live")).timeout(Duration.ofSeconds(30)).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(404, overTls.statusCode(), overTls.body());
                var health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://localhost:" + management + "/q/health/live"))
                        .timeout(Duration.ofSeconds(30)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, health.statusCode(), health.body());
                int plainHttp;
                try {
                    plainHttp = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://localhost:" + http + "/q/health/live"))
                            .timeout(Duration.ofSeconds(10)).GET().build(),
                            java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (java.io.IOException refused) {
                    plainHttp = -1;
                }
                assertTrue(plainHttp == -1 || plainHttp >= 400, "plain HTTP is not served: " + plainHttp);
            } finally {
                mtls.shutdownNow();
                noCert.shutdownNow();
                plain.shutdownNow();
                p.destroyForcibly();
                p.onExit().get(60, TimeUnit.SECONDS);
            }
        }
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (producer != null) {
            producer.close();
        }
        if (gateway != null) {
            gateway.shutdownNow();
        }
        if (stack != null) {
            stack.close();
        }
        if (traces != null) {
            traces.close();
        }
    }

    /** A channel to a service; every call carries the stack's API key (the gateway needs it, stages ignore it). */
    static ManagedChannel channel(String role) {
        return ManagedChannelBuilder.forAddress("localhost", stack.grpcPort(role)).usePlaintext()
                .maxInboundMessageSize(64 << 20).intercept(withKey(apiKey())).build();
    }

    static String apiKey() {
        try {
            return stack.apiKey();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static io.grpc.ClientInterceptor withKey(String key) {
        io.grpc.Metadata h = new io.grpc.Metadata();
        h.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h);
    }

    static byte[] request(String id, String caption, int candidates, int topK, long seed) {
        return GenerationRequest.newBuilder().setRequestId(id).setCaption(caption).setCandidates(candidates)
                .setTopK(topK).setSeed(seed).build().toByteArray();
    }

    /** The results of {@code ids}, exactly one each, none failed, each with {@code k} images. */
    static Map<String, List<ConsumerRecord<String, byte[]>>> awaitResults(Set<String> ids, int k) {
        Map<String, List<ConsumerRecord<String, byte[]>>> results = Topic.read(stack.bootstrap(),
                Topics.GENERATION_RESULTS.name(), ids, RESULTS_TIMEOUT, SETTLE);
        Set<String> missing = new LinkedHashSet<>(ids);
        missing.removeAll(results.keySet());
        assertTrue(missing.isEmpty(), "no result for " + missing);
        for (var e : results.entrySet()) {
            assertEquals(1, e.getValue().size(), "exactly one result for " + e.getKey());
            GenerationResult r = parse(e.getValue().get(0));
            assertFalse(r.hasError(), e.getKey() + " failed: " + r.getError());
            assertEquals(e.getKey(), r.getRequestId());
            assertEquals(k, r.getImagesCount(), e.getKey() + " has top-k images");
        }
        return results;
    }

    static GenerationResult parse(ConsumerRecord<String, byte[]> r) {
        return ((Parsed.Ok<GenerationResult>) Topics.GENERATION_RESULTS.parse(r.value())).value();
    }

    @Nested
    class KafkaPath {

        @Test
        void twentyRequestsFromAPlainProducerComeBackExactlyOnceWithTopKImages() {
            Set<String> ids = new LinkedHashSet<>();
            for (int i = 0; i < 20; i++) {
                String id = "plain-" + i;
                ids.add(id);
                Topic.send(producer, Topics.GENERATION_REQUESTS.name(), id,
                        request(id, "a small red circle above a blue square", 4, 2, i));
            }
            awaitResults(ids, 2);
        }

        @Test
        void theSamplerKilledWithSigkillMidwayAndRestartedLosesAndDuplicatesNothing() throws Exception {
            Set<String> ids = new LinkedHashSet<>();
            for (int i = 0; i < 10; i++) {
                String id = "killed-" + i;
                ids.add(id);
                Topic.send(producer, Topics.GENERATION_REQUESTS.name(), id, request(id, "a green triangle", 4, 2, i));
            }
            // Given the sampler has started on the first ten (its first output is on image-codes)
            Topic.awaitAny(stack.bootstrap(), Topics.IMAGE_CODES.name(), k -> k.startsWith("killed-"),
                    Duration.ofSeconds(60));
            // When it is killed (no shutdown, nothing committed after this instant) and ten more arrive meanwhile
            stack.kill("sampler");
            for (int i = 10; i < 20; i++) {
                String id = "killed-" + i;
                ids.add(id);
                Topic.send(producer, Topics.GENERATION_REQUESTS.name(), id, request(id, "a green triangle", 4, 2, i));
            }
            stack.restart("sampler");
            // Then every request has exactly one result (redelivered candidates are not counted twice)
            awaitResults(ids, 2);
        }

        @Test
        void badRecordsGoToTheDeadLetterTopicWithAReasonWhileValidOnesAroundThemComplete() throws Exception {
            Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
            bad.put("bad-bytes", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
            bad.put("bad-empty-caption", request("bad-empty-caption", "", 4, 2, 1));
            bad.put("bad-n-zero", request("bad-n-zero", "a red square", 0, 1, 1));
            bad.put("bad-n-negative", request("bad-n-negative", "a red square", -1, 1, 1));
            bad.put("bad-n-above-limit", request("bad-n-above-limit", "a red square", 513, 2, 1));
            bad.put("bad-wire-type", wrongWireType("bad-wire-type"));
            bad.put("bad-other-message", ImageCodes.newBuilder().setRequestId("bad-other-message")
                    .setCandidateIndex(3).build().toByteArray());
            // a client that keys its record otherwise than by the request id would wait on the wrong key
            bad.put("bad-key", request("bad-key-request-id", "a red square", 2, 1, 1));
            Map<String, String> reasons = Map.of("bad-bytes", "InvalidProtocolBufferException",
                    "bad-empty-caption", "caption", "bad-n-zero", "candidates", "bad-n-negative", "candidates",
                    "bad-n-above-limit", "candidates", "bad-wire-type", "candidates",
                    "bad-other-message", "wrong wire type",
                    "bad-key", "record key 'bad-key' differs from request_id 'bad-key-request-id'");
            Set<String> valid = new LinkedHashSet<>();
            int i = 0;
            for (var e : bad.entrySet()) {
                String before = "around-" + i++;
                valid.add(before);
                Topic.send(producer, Topics.GENERATION_REQUESTS.name(), before, request(before, "a blue circle", 2, 1, i));
                Topic.send(producer, Topics.GENERATION_REQUESTS.name(), e.getKey(), e.getValue());
            }
            String last = "around-" + i;
            valid.add(last);
            Topic.send(producer, Topics.GENERATION_REQUESTS.name(), last, request(last, "a blue circle", 2, 1, i));

            var dead = Topic.read(stack.bootstrap(), Topics.deadLetterTopic(Topics.GENERATION_REQUESTS.name()), bad.keySet(),
                    RESULTS_TIMEOUT, Duration.ZERO);
            for (var e : bad.entrySet()) {
                List<ConsumerRecord<String, byte[]>> records = dead.get(e.getKey());
                assertTrue(records != null && !records.isEmpty(), e.getKey() + " is not in the dead-letter topic");
                ConsumerRecord<String, byte[]> r = records.get(0);
                assertArrayEquals(e.getValue(), r.value(), "dead-lettered unchanged");
                Header reason = r.headers().lastHeader(DeadLetters.REASON);
                assertTrue(reason != null, e.getKey() + " has no " + DeadLetters.REASON + " header");
                String text = new String(reason.value(), StandardCharsets.UTF_8);
                assertTrue(text.contains(reasons.get(e.getKey())), e.getKey() + ": " + text);
            }
            awaitResults(valid, 1);
        }

        /** A GenerationRequest whose candidates (int32, field 3) arrives length-delimited. */
        private static byte[] wrongWireType(String id) throws Exception {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CodedOutputStream c = CodedOutputStream.newInstance(out);
            c.writeString(1, id);
            c.writeString(2, "a red square");
            c.writeByteArray(3, "eight".getBytes(StandardCharsets.UTF_8));
            c.flush();
            return out.toByteArray();
        }
    }

    @Nested
    class EveryPath {

        @Test
        void theSameCaptionAndSeedGiveTheSamePngsScoresAndOrderInProcessOverGrpcAndOverKafka() throws Exception {
            String caption = "a large yellow square left of a small red circle";
            int n = 6;
            int k = 3;
            long seed = 20260101L;
            Generation local;
            try (ModelBundle b = ModelBundle.load(bundle)) {
                local = new Pipeline(b).generate(dalle.core.pipeline.GenerationRequest.of(caption, n, k, seed));
            }
            GenerateResponse grpc = GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .generate(GenerateRequest.newBuilder().setCaption(caption).setCandidates(n).setTopK(k)
                            .setSeed(seed).build());
            Topic.send(producer, Topics.GENERATION_REQUESTS.name(), "same-1", request("same-1", caption, n, k, seed));
            GenerationResult kafka = parse(awaitResults(Set.of("same-1"), k).get("same-1").get(0));

            assertSame("gRPC Generate", local.top(), grpc.getImagesList());
            assertSame("the Kafka path", local.top(), kafka.getImagesList());
        }

        private void assertSame(String path, List<Candidate> expected, List<RankedImage> actual) {
            assertEquals(expected.size(), actual.size(), path);
            for (int i = 0; i < expected.size(); i++) {
                Candidate c = expected.get(i);
                RankedImage r = actual.get(i);
                assertEquals(i + 1, r.getRank(), path);
                assertEquals(c.index(), r.getCandidateIndex(), path + ": candidate at rank " + (i + 1));
                assertEquals(c.score(), r.getScore(), 0f, path + ": score at rank " + (i + 1) + " (bit for bit)");
                assertArrayEquals(c.image().toPng(), r.getImage().getPng().toByteArray(),
                        path + ": PNG bytes at rank " + (i + 1));
            }
        }
    }

    /**
     * Clients in another language that know only the README and the {@code .proto} files: the Python examples in
     * {@code examples/python}, on Debian's python3 with its grpcio and confluent-kafka and messages from Debian's
     * protoc. Each gives the in-process PNG bytes for the same caption and seed. {@code .ci/run} installs the three
     * packages; elsewhere the test is skipped, loudly, when they are missing.
     */
    @Nested
    class PythonClients {

        private static final String PYTHON = "/usr/bin/python3";

        private String run(List<String> command, Map<String, String> env) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", command));
            assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
            return out;
        }

        private static boolean works(String... command) throws InterruptedException {
            try {
                return new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
            } catch (java.io.IOException e) {
                return false;
            }
        }

        private void needsPython() throws InterruptedException {
            boolean ok = works(PYTHON, "-c", "import grpc, confluent_kafka, google.protobuf")
                    && works("protoc", "--version");
            if (!ok) {
                String why = "PythonClients needs Debian's python3-grpcio, python3-confluent-kafka and "
                        + "protobuf-compiler (apt-get install them)";
                if (System.getenv("CI") != null) {
                    org.junit.jupiter.api.Assertions.fail(why + " (CI is set: .ci/run installs them)");
                }
                System.err.println("\n*** SKIPPED: " + why + " ***\n");
                org.junit.jupiter.api.Assumptions.abort(why);
            }
        }

        @Test
        void theGrpcAndKafkaExamplesGiveTheInProcessPngs() throws Exception {
            needsPython();
            Path root = Path.of("..").toAbsolutePath().normalize();
            Path work = Files.createTempDirectory("python-clients");
            Path stubs = work.resolve("gen");
            Files.createDirectories(stubs);
            List<String> protoc = new ArrayList<>(List.of("protoc", "-I", root.resolve("proto/src/main/proto")
                    .toString(), "--python_out=" + stubs));
            try (var protos = Files.list(root.resolve("proto/src/main/proto/dalle/v1"))) {
                protos.map(Path::toString).filter(f -> f.endsWith(".proto")).sorted().forEach(protoc::add);
            }
            run(protoc, Map.of());

            String caption = "a small blue triangle below a large green circle";
            long seed = 4242L;
            Generation local;
            try (ModelBundle b = ModelBundle.load(bundle)) {
                local = new Pipeline(b).generate(dalle.core.pipeline.GenerationRequest.of(caption, 6, 2, seed));
            }
            Path examples = root.resolve("examples/python");
            Path out = work.resolve("out");
            String grpc = run(List.of(PYTHON, examples.resolve("grpc_generate.py").toString(), "--stubs",
                    stubs.toString(), "--target", "localhost:" + stack.grpcPort("gateway"), "--out", out.toString(),
                    "--candidates", "6", "--top-k", "2", "--seed", Long.toString(seed), caption),
                    Map.of("DALLE_API_KEY", apiKey()));
            String kafka = run(List.of(PYTHON, examples.resolve("kafka_batch.py").toString(), "--stubs",
                    stubs.toString(), "--bootstrap", stack.bootstrap(), "--out", out.toString(), "--candidates", "6",
                    "--top-k", "2", "--seed", Long.toString(seed), caption), Map.of());
            for (int rank = 1; rank <= 2; rank++) {
                byte[] expected = local.top().get(rank - 1).image().toPng();
                assertArrayEquals(expected, Files.readAllBytes(out.resolve("grpc-top-" + rank + ".png")),
                        "grpc_generate.py, rank " + rank + ":\n" + grpc);
                String suffix = "-top-" + rank + ".png";
                List<Path> fromKafka;
                try (var files = Files.list(out)) {
                    fromKafka = files.filter(f -> f.getFileName().toString().startsWith("py-")
                            && f.getFileName().toString().endsWith(suffix)).toList();
                }
                assertEquals(1, fromKafka.size(), kafka);
                assertArrayEquals(expected, Files.readAllBytes(fromKafka.get(0)), "kafka_batch.py, rank " + rank
                        + ":\n" + kafka);
            }
        }
    }

    @Nested
    class Grpc {

        @Test
        void generateStreamReportsProgressBeforeItsResult() {
            Iterator<GenerateProgress> it = GatewayGrpc.newBlockingStub(gateway)
                    .withDeadlineAfter(120, TimeUnit.SECONDS).generateStream(GenerateRequest.newBuilder()
                            .setCaption("a purple circle").setCandidates(4).setTopK(2).setSeed(5).build());
            List<GenerateProgress> updates = new ArrayList<>();
            it.forEachRemaining(updates::add);
            assertTrue(updates.size() >= 2, "progress and a result: " + updates.size());
            GenerateProgress last = updates.get(updates.size() - 1);
            assertTrue(last.hasResult(), "the last message is the result");
            assertEquals(2, last.getResult().getImagesCount());
            assertTrue(updates.subList(0, updates.size() - 1).stream().allMatch(GenerateProgress::hasEvent),
                    "every message before the result is progress");
            assertEquals(1, updates.stream().filter(GenerateProgress::hasResult).count(), "one result");
        }

        @Test
        void aOneMillisecondDeadlineIsDeadlineExceededAndTheSamplerDoesNotSpendTheWork() throws Exception {
            int samplerMetrics = stack.managementPort("sampler");
            double before = Stack.metric(samplerMetrics, "dalle_sampler_candidates_total");
            StatusRuntimeException viaGateway = assertThrows(StatusRuntimeException.class, () ->
                    GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                            .generate(GenerateRequest.newBuilder().setCaption("a red circle").setCandidates(64)
                                    .setTopK(1).setSeed(1).build()));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, viaGateway.getStatus().getCode());

            ManagedChannel tokenizer = channel("tokenizer");
            ManagedChannel sampler = channel("sampler");
            try {
                var padded = TokenizerGrpc.newBlockingStub(tokenizer).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .tokenize(TokenizeRequest.newBuilder().setCaption("a red circle").build()).getPaddedIdsList();
                StatusRuntimeException direct = assertThrows(StatusRuntimeException.class, () ->
                        SamplerGrpc.newBlockingStub(sampler).withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                                .sample(SampleRequest.newBuilder().addAllTextTokens(padded).setCandidates(64)
                                        .setSeed(1).build()).forEachRemaining(c -> { }));
                assertEquals(Status.Code.DEADLINE_EXCEEDED, direct.getStatus().getCode());
            } finally {
                tokenizer.shutdownNow();
                sampler.shutdownNow();
            }
            Thread.sleep(500); // anything still queued would be sampled by now
            assertEquals(before, Stack.metric(samplerMetrics, "dalle_sampler_candidates_total"),
                    "no candidate of the late requests was sampled");
        }
    }

    /**
     * The Grafana dashboard of deploy/monitoring queries only metrics the services really export: after a generation,
     * a dead letter and an HTTP call, every non-Kafka metric name in its PromQL is in a scrape of the five services'
     * management ports (the Kafka ones come from Strimzi's exporters: cli's DeployMonitoringTest checks them against
     * the JMX exporter rules).
     */
    @Nested
    class Monitoring {

        @Test
        void everyServiceMetricTheDashboardQueriesIsInTheServicesScrapes() throws Exception {
            Topic.send(producer, Topics.GENERATION_REQUESTS.name(), "dash-bad", new byte[] {(byte) 0xff, 0x01});
            Topic.send(producer, Topics.GENERATION_REQUESTS.name(), "dash-1", request("dash-1", "a red square", 2, 1, 7));
            Topic.read(stack.bootstrap(), Topics.deadLetterTopic(Topics.GENERATION_REQUESTS.name()), Set.of("dash-bad"),
                    RESULTS_TIMEOUT, Duration.ZERO);
            awaitResults(Set.of("dash-1"), 1);
            var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
            assertEquals(404, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:"
                    + stack.httpPort("gateway") + "/v1/jobs/dash-no-such-job")).header("Authorization", "Bearer "
                    + apiKey()).timeout(Duration.ofSeconds(30)).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode());

            Set<String> exported = new java.util.TreeSet<>();
            for (String service : ServicesStack.SERVICES) {
                exported.addAll(dalle.services.common.PromQl.exported(Stack.scrape(stack.managementPort(service))));
            }
            Set<String> queried = Dashboard.metrics();
            assertTrue(queried.size() > 15, "metrics the dashboard queries: " + queried);
            List<String> missing = queried.stream().filter(m -> !m.startsWith("kafka_") && !exported.contains(m))
                    .toList();
            assertEquals(List.of(), missing, "the dashboard (" + Dashboard.file() + ") queries metrics no service "
                    + "exports; exported: " + exported);
        }
    }

    @Nested
    class SeparateServices {

        @Test
        void theGatewayAndTheTokenizerProcessesNeverLoadLibtorchWhileTheModelStagesDo() throws Exception {
            GatewayGrpc.newBlockingStub(gateway).withDeadlineAfter(120, TimeUnit.SECONDS).generate(GenerateRequest
                    .newBuilder().setCaption("a blue square").setCandidates(2).setTopK(1).setSeed(2).build());
            for (String service : ServicesStack.SERVICES) {
                long pid = stack.process(service).orElseThrow().pid();
                String maps = Files.readString(Path.of("/proc", Long.toString(pid), "maps"));
                boolean torch = maps.contains("libtorch_cpu");
                assertEquals(!service.equals("gateway") && !service.equals("tokenizer"), torch,
                        service + " (pid " + pid + ") has libtorch mapped: " + torch);
            }
        }

        @Test
        void aRestartedStageSaysNotServingOnGrpcHealthUntilItsModelIsWarmThenServing() throws Exception {
            stack.kill("decoder");
            stack.startAgain("decoder");
            List<String> seen = new ArrayList<>();
            ManagedChannel decoder = channel("decoder");
            boolean awaited = false;
            try {
                var health = grpc.health.v1.HealthGrpc.newBlockingStub(decoder);
                var check = grpc.health.v1.HealthOuterClass.HealthCheckRequest.newBuilder()
                        .setService(DecoderGrpc.SERVICE_NAME).build();
                long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                while (System.nanoTime() < end) {
                    try {
                        String status = health.withDeadlineAfter(2, TimeUnit.SECONDS).check(check).getStatus().name();
                        if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(status)) {
                            seen.add(status);
                        }
                        if (status.equals("SERVING")) {
                            break;
                        }
                    } catch (StatusRuntimeException notListeningYet) {
                        // not listening yet, or (a JVM starting on a busy machine) not answering within 2 s
                        assertTrue(Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED).contains(
                                notListeningYet.getStatus().getCode()), notListeningYet.getStatus().toString());
                        decoder.resetConnectBackoff(); // try again at once, not after the channel's backoff
                    }
                    Thread.sleep(20);
                }
                stack.awaitReady("decoder");
                awaited = true;
                // the server listens before the dVAE is loaded: it says NOT_SERVING first, SERVING once warm
                assertEquals(List.of("NOT_SERVING", "SERVING"), seen);
                String log = Files.readString(stack.log("decoder"));
                assertTrue(log.contains("decoder ready: loaded and warmed up"), "the decoder logged its warm-up");
            } finally {
                decoder.shutdownNow();
                if (!awaited) {
                    stack.awaitReady("decoder"); // the next test finds the stack whole, whatever happened here
                }
            }
        }

        @Test
        void everyStageAndTheGatewayReportTheSameBundleThroughGetModelInfo() {
            var req = dalle.v1.GetModelInfoRequest.getDefaultInstance();
            String version = GatewayGrpc.newBlockingStub(gateway).getModelInfo(req).getBundleVersion();
            assertFalse(version.isEmpty());
            for (String service : List.of("tokenizer", "sampler", "decoder", "reranker")) {
                ManagedChannel c = channel(service);
                try {
                    var info = switch (service) {
                        case "tokenizer" -> TokenizerGrpc.newBlockingStub(c).getModelInfo(req);
                        case "sampler" -> SamplerGrpc.newBlockingStub(c).getModelInfo(req);
                        case "decoder" -> DecoderGrpc.newBlockingStub(c).getModelInfo(req);
                        default -> dalle.v1.RerankerGrpc.newBlockingStub(c).getModelInfo(req);
                    };
                    assertEquals(version, info.getBundleVersion(), service);
                } finally {
                    c.shutdownNow();
                }
            }
        }

        @Test
        void aJobPostedOverHttpRunsThroughKafkaAndTheGatewaysFanInAndStageMetricsAreServed() throws Exception {
            var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                    .connectTimeout(java.time.Duration.ofSeconds(10)).build();
            String base = "http://localhost:" + stack.httpPort("gateway");
            String auth = "Bearer " + apiKey();
            var posted = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/jobs"))
                    .header("Authorization", auth).header("Content-Type", "application/json").timeout(java.time.Duration.ofSeconds(30))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a green triangle\","
                            + "\"n\":1,\"candidates\":2,\"request_id\":\"e2e-http-job-1\"}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(202, posted.statusCode(), posted.body());
            long end = System.nanoTime() + RESULTS_TIMEOUT.toNanos();
            String body = "";
            while (System.nanoTime() < end && !body.contains("\"state\":\"succeeded\"")) {
                Thread.sleep(200);
                body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/jobs/e2e-http-job-1"))
                        .header("Authorization", auth).timeout(java.time.Duration.ofSeconds(30)).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            }
            assertTrue(body.contains("\"state\":\"succeeded\"") && body.contains("b64_json"), body);
            // the job was queued with a deadline (dalle.gateway.job-deadline, 10 min), so it cannot wait forever
            var queued = dalle.v1.GenerationRequest.parseFrom(Topic.read(stack.bootstrap(),
                    Topics.GENERATION_REQUESTS.name(), java.util.Set.of("local:e2e-http-job-1"), RESULTS_TIMEOUT,
                    java.time.Duration.ZERO).get("local:e2e-http-job-1").get(0).value());
            assertEquals(600_000, queued.getDeadlineMs() - queued.getSubmittedAtMs(), queued.toString());
            assertEquals(404, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base
                    + "/v1/jobs/no-such-job")).header("Authorization", auth).timeout(java.time.Duration.ofSeconds(30)).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base
                    + "/v1/jobs/e2e-http-job-1")).timeout(java.time.Duration.ofSeconds(30)).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode(), "no key, no job");
            int sampler = stack.managementPort("sampler");
            assertTrue(Stack.metric(sampler, "dalle_sampler_image_tokens_total") > 0, "the sampler counts tokens");
            assertTrue(Stack.metric(sampler, "dalle_sampler_batch_size_count") > 0, "and its batches");
        }
    }
}
