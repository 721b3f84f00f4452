/**
 * The dalle-jvm stage services: tokenizer, sampler, decoder, reranker and gateway, as ONE Quarkus application.
 *
 * <h2>One application, any subset of roles</h2>
 * {@code dalle.roles} (default {@code all}) picks the roles a process runs. The same {@code quarkus-app} is
 * started once per role by {@code dalle up} (five processes, each with its own HTTP and gRPC port) and as one
 * Kubernetes Deployment per role (same image, {@code DALLE_ROLES=sampler}). One build instead of five keeps the
 * roles' code, versions and wire handling identical; each role still scales, fails and restarts on its own.
 * A gRPC service of a role that is off answers UNAVAILABLE naming the role; its Kafka stage does not run.
 *
 * <pre>
 * java -Ddalle.roles=sampler -Dquarkus.http.port=8082 -Dquarkus.grpc.server.port=9002 \
 *      -Ddalle.model=models/tiny -Dkafka.bootstrap.servers=localhost:9092 \
 *      -jar services/app/target/quarkus-app/quarkus-run.jar
 * </pre>
 *
 * <h2>Layers</h2>
 * <ul>
 *   <li>{@code stage}: plain Java around core's {@link dalle.core.pipeline.Pipeline} stage methods: request
 *       checks ({@link dalle.services.common.stage.Requests}), the cross-request sampler batcher, bounded queues,
 *       deadlines, metrics. No Quarkus.</li>
 *   <li>{@code grpc}: the four stage services, implementing dalle-proto's generated {@code *ImplBase}.</li>
 *   <li>{@code kafka}: one {@link dalle.services.common.kafka.KafkaStage} per model role (plain kafka-clients on a
 *       managed thread, commits after acks, dead letters).</li>
 *   <li>{@code gateway}: gRPC Gateway (sync through the stage services; jobs through Kafka).</li>
 *   <li>{@code http}: the OpenAI Images-compatible JSON API and jobs.</li>
 *   <li>this package: the Quarkus wiring: config ({@link dalle.services.app.ServicesConfig}), model loading and
 *       warm-up, readiness.</li>
 * </ul>
 */
package dalle.services.app;

import dalle.services.common.kafka.KafkaStage;
import dalle.services.common.stage.Requests;