#!/usr/bin/env bash
# The sampler, decoder and reranker benchmarks on a CUDA machine, with CUDA libtorch selected as the -gpu images
# select it (docker/*.Dockerfile VARIANT=gpu): the parent pom's -Pgpu profile (DJL 0.33, libtorch 2.5.1 for CUDA
# 12.4 from Maven Central), the native jar unpacked by docker/libtorch.sh, PYTORCH_LIBRARY_PATH/PYTORCH_FLAVOR set,
# nothing downloaded at run time. Prints image tokens/s and GFLOP/s of the sampler (with its ratio to an fp32 matmul
# measured in the same run), images/s of one dVAE decode and one reranker pass, at batch 1-256, for the tiny and the
# small preset (width 512, 8 layers; 128x128 images, 16x16 grid), and the memory each preset used.
#
#   tools/bench-gpu.sh [--flavor cu124|cpu] [--quick] [OUT_DIR]        (default OUT_DIR: .dalle/bench-gpu)
#
# The build happens in a copy of the checkout under OUT_DIR/src, so the checkout's own (CPU) build is left alone.
# Needs: JDK 17, Maven, an NVIDIA driver with CUDA 12.x and libcudart.so on the library path (DJL finds the GPU
# through it; without it everything runs on the CPU and the header says device cpu()).
# --flavor cpu runs the same path with the CPU build of libtorch 2.5.1 (a dry run on a machine without a GPU);
# --quick runs batches 1 and 8 of the tiny preset only. The report also goes to OUT_DIR/report.txt.
# Takes a few minutes on a GPU after the build (the first build fetches the ~2.4 GB CUDA jar into ~/.m2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLAVOR=cu124
QUICK=0
OUT=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --flavor) FLAVOR="${2:?--flavor needs cu124 or cpu}"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-gpu: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) OUT="$1"; shift ;;
  esac
done
case "$FLAVOR" in
  cu124) ARTIFACT=pytorch-native-cu124 ;;
  cpu) ARTIFACT=pytorch-native-cpu ;;
  *) echo "bench-gpu: --flavor must be cu124 or cpu, got '$FLAVOR'" >&2; exit 2 ;;
esac
OUT="$(mkdir -p "${OUT:-$ROOT/.dalle/bench-gpu}" && cd "${OUT:-$ROOT/.dalle/bench-gpu}" && pwd)"
SRC="$OUT/src"
LIBTORCH="$OUT/libtorch-$FLAVOR"

echo "bench-gpu: copying the checkout to $SRC (sources only) and building the CLI with -Pgpu ($ARTIFACT)..."
rm -rf "$SRC" && mkdir -p "$SRC"
(cd "$ROOT" && tar --exclude='./.dalle' --exclude='./.git' --exclude='*/target' --exclude='./models/*/dvae' \
    --exclude='./models/*/prior' --exclude='./models/*/clip' -cf - .) | (cd "$SRC" && tar -xf -)
log="$OUT/build.log"
if ! (cd "$SRC" && mvn -B -q -Pgpu -Dpytorch.native.artifact="$ARTIFACT" -Dpytorch.native.scope=provided -DskipTests \
        -pl cli -am package \
      && mvn -B -q -Pgpu -Dpytorch.native.artifact="$ARTIFACT" -Dpytorch.native.scope=provided -pl core \
        dependency:copy-dependencies -DincludeScope=provided -DincludeGroupIds=ai.djl.pytorch \
        -DoutputDirectory="$OUT/natives-$FLAVOR") >"$log" 2>&1; then
  cat "$log" >&2
  echo "bench-gpu: the build failed (log above, also in $log)" >&2
  exit 1
fi
if [ ! -f "$LIBTORCH/libtorch.so" ]; then
  rm -rf "$LIBTORCH"
  sh "$ROOT/docker/libtorch.sh" "$FLAVOR" "$LIBTORCH" "$OUT/natives-$FLAVOR"
fi

bench() {
  PYTORCH_LIBRARY_PATH="$LIBTORCH" PYTORCH_FLAVOR="$FLAVOR" DJL_CACHE_DIR="$OUT/djl-cache" \
  java ${DALLE_JAVA_OPTS:--Xmx8g} -Dai.djl.pytorch.num_threads="${DALLE_THREADS:-1}" -Dai.djl.offline=true \
       -Ddalle.home="$ROOT" -cp "$SRC/cli/target/dalle-cli.jar:$SRC/cli/target/lib/*" dalle.cli.DalleCommand bench "$@"
}

if [ "$QUICK" = 1 ]; then
  presets=tiny; batches=1,8
else
  presets=tiny,small; batches=1,8,32,64,128,256
fi
{
  echo "bench-gpu: $(date -u +%FT%TZ), flavour $FLAVOR, $(command -v nvidia-smi >/dev/null \
      && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1 || echo 'no nvidia-smi')"
  bench sampler --preset "$presets" --batch "$batches" --paths fast --repeat 3
  bench stage-batches --preset "$presets" --batch "$batches" --repeat 5
} 2>&1 | tee "$OUT/report.txt"
echo "bench-gpu: report in $OUT/report.txt"
