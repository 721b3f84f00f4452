# syntax=docker/dockerfile:1.7
# dalle-gateway: the gateway (module services/gateway, artifact dalle-gateway): the public gRPC and HTTP APIs, the
# fan-in and the request-status view (Kafka Streams). No model and no libtorch (nothing of ai.djl.pytorch in its
# dependencies); it reaches the stages through DALLE_GATEWAY_<STAGE>_ADDRESS. CPU only, in every overlay.
# Build context: the repository root (see docker/README.md).
#   docker build -f docker/gateway.Dockerfile -t ghcr.io/example/dalle-gateway:0.1.0 .
# Base images are pinned to exact version tags, not digests: docker/README.md says why.

FROM --platform=linux/amd64 maven:3.9.11-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -DskipTests -pl services/gateway -am package \
 && ! ls services/gateway/target/quarkus-app/lib/main | grep ai.djl.pytorch

FROM --platform=linux/amd64 eclipse-temurin:17.0.16_8-jre-noble
RUN groupadd --system --gid 10001 dalle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dalle
# Root-owned and read-only to the service; the root filesystem can be mounted read-only: the Kafka Streams state
# (dalle.gateway.state-dir) lives under java.io.tmpdir, /tmp, rebuilt from Kafka when lost.
COPY --from=build /src/services/gateway/target/quarkus-app/lib/ /opt/dalle/app/lib/
COPY --from=build /src/services/gateway/target/quarkus-app/*.jar /opt/dalle/app/
COPY --from=build /src/services/gateway/target/quarkus-app/app/ /opt/dalle/app/app/
COPY --from=build /src/services/gateway/target/quarkus-app/quarkus/ /opt/dalle/app/quarkus/
USER 10001:10001
WORKDIR /opt/dalle
# HTTP (the JSON API, web page), gRPC (dalle.v1.Gateway), management (health /q/health, metrics /q/metrics)
EXPOSE 8080 9000 9100
# JVM options come in JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-jar", "/opt/dalle/app/quarkus-run.jar"]
