# syntax=docker/dockerfile:1.7
# dalle-trainer: the dalle CLI (module cli, artifact dalle-cli) with libtorch, for the training workers
# (deploy/training runs `dalle train worker` in it) and one-off jobs (`dalle topics apply`, `dalle train dvae`,
# `dalle eval -m <mounted bundle>`). No model bundle inside: training reads and writes the checkpoint volume.
# Build context: the repository root (see docker/README.md).
#   CPU: docker build -f docker/trainer.Dockerfile -t ghcr.io/example/dalle-trainer:0.1.0 .
#   GPU: docker build -f docker/trainer.Dockerfile --build-arg VARIANT=gpu -t ghcr.io/example/dalle-trainer:0.1.0-gpu .
# Base images are pinned to exact version tags, not digests: docker/README.md says why.

# cpu: libtorch 2.7.1 for CPU (DJL 0.36). gpu: libtorch 2.5.1 for CUDA 12.4 (DJL 0.33, the parent pom's -Pgpu).
ARG VARIANT=cpu

# ---- build: the CLI and its runtime classpath (cli/target/lib), then libtorch out of DJL's native jar -------------
FROM --platform=linux/amd64 maven:3.9.11-eclipse-temurin-17 AS source
WORKDIR /src
COPY . .

# -Dpytorch.native.scope=provided: cli/target/lib gets no native jar; libtorch.sh unpacks that jar into /opt/libtorch,
# which the image loads through PYTORCH_LIBRARY_PATH.
FROM source AS build-cpu
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -DskipTests -Dpytorch.native.scope=provided -pl cli -am package \
 && mvn -B -q -Dpytorch.native.scope=provided -pl core dependency:copy-dependencies \
        -DincludeScope=provided -DincludeGroupIds=ai.djl.pytorch -DoutputDirectory=/natives \
 && sh docker/libtorch.sh cpu /opt/libtorch /natives \
 && ! ls cli/target/lib | grep pytorch-native

FROM source AS build-gpu
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Pgpu -DskipTests -Dpytorch.native.scope=provided -pl cli -am package \
 && mvn -B -q -Pgpu -Dpytorch.native.scope=provided -pl core dependency:copy-dependencies \
        -DincludeScope=provided -DincludeGroupIds=ai.djl.pytorch -DoutputDirectory=/natives \
 && sh docker/libtorch.sh cu124 /opt/libtorch /natives \
 && ! ls cli/target/lib | grep pytorch-native

FROM build-${VARIANT} AS build

# ---- runtime bases ----------------------------------------------------------------------------------------------
# Temurin's JRE images carry fontconfig and a font: the trainer draws loss.png (JFreeChart).
FROM --platform=linux/amd64 eclipse-temurin:17.0.16_8-jre-noble AS jre

FROM jre AS base-cpu
ENV PYTORCH_FLAVOR=cpu

# The CUDA runtime base (see docker/sampler.Dockerfile), plus fontconfig and a font for the charts.
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
    ldconfig; \
    apt-get update; \
    apt-get install -y --no-install-recommends fontconfig; \
    rm -rf /var/lib/apt/lists/*

# ---- the image ----------------------------------------------------------------------------------------------------
FROM base-${VARIANT}
RUN groupadd --system --gid 10001 dalle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dalle
COPY --from=build /opt/libtorch/ /opt/dalle/libtorch/
COPY --from=build /src/cli/target/lib/ /opt/dalle/cli/lib/
COPY --from=build /src/cli/target/dalle-cli.jar /opt/dalle/cli/dalle-cli.jar
COPY --chmod=0755 docker/dalle /usr/local/bin/dalle
ENV DJL_OFFLINE=true \
    DJL_CACHE_DIR=/tmp/djl \
    PYTORCH_LIBRARY_PATH=/opt/dalle/libtorch
USER 10001:10001
WORKDIR /opt/dalle
# The training collectives (TcpCollectives; deploy/training's DALLE_PORT)
EXPOSE 7070
ENTRYPOINT ["/usr/local/bin/dalle"]
CMD ["--help"]
