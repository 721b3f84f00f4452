# syntax=docker/dockerfile:1.7
# dalle-tokenizer: the tokenizer stage (module services/tokenizer, artifact dalle-tokenizer). No weights and no
# libtorch (the module excludes ai.djl.pytorch): the quarkus-app and the model bundle's bundle.json + tokenizer.json.
# CPU only, in every overlay. Build context: the repository root (see docker/README.md).
#   docker build -f docker/tokenizer.Dockerfile -t ghcr.io/example/dalle-tokenizer:0.1.0 .
# Base images are pinned to exact version tags, not digests: docker/README.md says why.

FROM --platform=linux/amd64 maven:3.9.11-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -DskipTests -pl services/tokenizer -am package \
 && ! ls services/tokenizer/target/quarkus-app/lib/main | grep ai.djl.pytorch

FROM --platform=linux/amd64 eclipse-temurin:17.0.16_8-jre-noble
RUN groupadd --system --gid 10001 dalle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dalle
# Root-owned and read-only to the service; the root filesystem can be mounted read-only (/tmp writable).
COPY --from=build /src/services/tokenizer/target/quarkus-app/lib/ /opt/dalle/app/lib/
COPY --from=build /src/services/tokenizer/target/quarkus-app/*.jar /opt/dalle/app/
COPY --from=build /src/services/tokenizer/target/quarkus-app/app/ /opt/dalle/app/app/
COPY --from=build /src/services/tokenizer/target/quarkus-app/quarkus/ /opt/dalle/app/quarkus/
# The shipped bundle, the tokenizer's part only; mount another bundle and point DALLE_MODEL at it to serve that one.
COPY models/tiny/bundle.json /opt/dalle/models/tiny/bundle.json
COPY models/tiny/tokenizer.json /opt/dalle/models/tiny/tokenizer.json
ENV DALLE_MODEL=/opt/dalle/models/tiny
USER 10001:10001
WORKDIR /opt/dalle
# HTTP (nothing public on a stage), gRPC, management (health /q/health, metrics /q/metrics)
EXPOSE 8080 9000 9100
# JVM options come in JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-jar", "/opt/dalle/app/quarkus-run.jar"]
