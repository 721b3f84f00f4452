# syntax=docker/dockerfile:1.7
# dalle-reranker: the reranker stage (module services/reranker, artifact dalle-reranker): the CLIP-style contrastive
# model on libtorch. Holds the quarkus-app, libtorch unpacked, and the model bundle's bundle.json, clip/ and
# tokenizer.json (for captions sent without tokens) only.
# Build context: the repository root (see docker/README.md).
#   CPU: docker build -f docker/reranker.Dockerfile -t ghcr.io/example/dalle-reranker:0.1.0 .
#   GPU: docker build -f docker/reranker.Dockerfile --build-arg VARIANT=gpu -t ghcr.io/example/dalle-reranker:0.1.0-gpu .
# Base images are pinned to exact version tags, not digests: docker/README.md says why.

# cpu: libtorch 2.7.1 for CPU (DJL 0.36). gpu: libtorch 2.5.1 for CUDA 12.4 (DJL 0.33, the parent pom's -Pgpu).
ARG VARIANT=cpu

# ---- build: the module and what it needs, then libtorch out of DJL's native jar -----------------------------------
FROM --platform=linux/amd64 maven:3.9.11-eclipse-temurin-17 AS source
WORKDIR /src
COPY . .

# -Dpytorch.native.scope=provided: the quarkus-app gets no native jar; libtorch.sh unpacks that jar (from the Maven
# repository the build filled) into /opt/libtorch, which the image loads through PYTORCH_LIBRARY_PATH.
FROM source AS build-cpu
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -DskipTests -Dpytorch.native.scope=provided -pl services/reranker -am package \
 && mvn -B -q -Dpytorch.native.scope=provided -pl core dependency:copy-dependencies \
        -DincludeScope=provided -DincludeGroupIds=ai.djl.pytorch -DoutputDirectory=/natives \
 && sh docker/libtorch.sh cpu /opt/libtorch /natives \
 && ! ls services/reranker/target/quarkus-app/lib/main | grep pytorch-native

FROM source AS build-gpu
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Pgpu -DskipTests -Dpytorch.native.scope=provided -pl services/reranker -am package \
 && mvn -B -q -Pgpu -Dpytorch.native.scope=provided -pl core dependency:copy-dependencies \
        -DincludeScope=provided -DincludeGroupIds=ai.djl.pytorch -DoutputDirectory=/natives \
 && sh docker/libtorch.sh cu124 /opt/libtorch /natives \
 && ! ls services/reranker/target/quarkus-app/lib/main | grep pytorch-native

FROM build-${VARIANT} AS build

# ---- runtime bases ----------------------------------------------------------------------------------------------
FROM --platform=linux/amd64 eclipse-temurin:17.0.16_8-jre-noble AS jre

FROM jre AS base-cpu
ENV PYTORCH_FLAVOR=cpu

# The CUDA runtime base: DJL decides between GPU and CPU by loading the CUDA runtime (libcudart.so, through JNA)
# and asking it for devices; libtorch's own CUDA libraries come from DJL's jar. The driver is the node's, mounted
# by the NVIDIA container runtime. The JRE is Temurin's, the same as the CPU image's.
FROM --platform=linux/amd64 nvidia/cuda:12.4.1-base-ubuntu22.04 AS base-gpu
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH \
    LANG=C.UTF-8 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PYTORCH_FLAVOR=cu124
RUN set -eu; \
    cudart="$(find /usr/local/cuda*/ -name 'libcudart.so.12*' -type f | head -n 1)"; \
    test -n "$cudart"; \
    ln -sf "$cudart" /usr/local/lib/libcudart.so; \
    ldconfig

# ---- the image ----------------------------------------------------------------------------------------------------
FROM base-${VARIANT}
RUN groupadd --system --gid 10001 dalle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dalle
# Everything below belongs to root and is read-only to the service: the root filesystem can be mounted read-only,
# with /tmp writable (DJL unpacks its small JNI library into DJL_CACHE_DIR there).
COPY --from=build /opt/libtorch/ /opt/dalle/libtorch/
COPY --from=build /src/services/reranker/target/quarkus-app/lib/ /opt/dalle/app/lib/
COPY --from=build /src/services/reranker/target/quarkus-app/*.jar /opt/dalle/app/
COPY --from=build /src/services/reranker/target/quarkus-app/app/ /opt/dalle/app/app/
COPY --from=build /src/services/reranker/target/quarkus-app/quarkus/ /opt/dalle/app/quarkus/
# The shipped bundle, the reranker's parts only; mount another bundle and point DALLE_MODEL at it to serve that one.
COPY models/tiny/bundle.json /opt/dalle/models/tiny/bundle.json
COPY models/tiny/clip/ /opt/dalle/models/tiny/clip/
COPY models/tiny/tokenizer.json /opt/dalle/models/tiny/tokenizer.json
ENV DALLE_MODEL=/opt/dalle/models/tiny \
    DJL_OFFLINE=true \
    DJL_CACHE_DIR=/tmp/djl \
    PYTORCH_LIBRARY_PATH=/opt/dalle/libtorch
USER 10001:10001
WORKDIR /opt/dalle
# HTTP (nothing public on a stage), gRPC, management (health /q/health, metrics /q/metrics)
EXPOSE 8080 9000 9100
# JVM options (heap, libtorch threads) come in JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-jar", "/opt/dalle/app/quarkus-run.jar"]
