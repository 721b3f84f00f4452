#!/usr/bin/env bash
# Trains the `emoji` bundle from scratch on Noto Emoji + Twemoji (prepared by `dalle data emoji`), exactly as
# models/emoji/MODEL_CARD.md reports it, then assembles it into models/emoji and evaluates it:
#   models/train-emoji.sh [RUNS_DIR]          (default RUNS_DIR: .dalle/train-emoji)
# The dVAE and the reranker train side by side (one core each), then the prior on the dVAE's codes.
# Every run checkpoints; running the script again resumes whatever did not finish (a finished run is skipped).
# Training uses a copy of the CLI build made once in RUNS_DIR/bin, so rebuilding the checkout while training does
# not swap classes under a running JVM (delete RUNS_DIR/bin to pick up a newer build). Assembling and evaluating
# use a fresh copy of the checkout's build (RUNS_DIR/bin-final), so the bundle is in the format of the code that
# will serve it (bundle.json with its `sizes`, which the services' partial loading needs).
# Output: RUNS_DIR/{dvae,clip,prior} (runs with metrics.jsonl and loss.png), RUNS_DIR/bundle (the assembled fp16
# bundle, also installed into models/emoji, where git ignores the weights) and RUNS_DIR/eval (eval.md, eval.json,
# accuracy-vs-n.png).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-$ROOT/.dalle/train-emoji}"
DATA="${EMOJI_DATA:-$ROOT/.dalle/data/emoji}"
CONFIGS="$ROOT/models/emoji-configs"
INSTALL="${EMOJI_BUNDLE:-$ROOT/models/emoji}"
DVAE_STEPS="${DVAE_STEPS:-1500}"
CLIP_STEPS="${CLIP_STEPS:-3000}"
PRIOR_STEPS="${PRIOR_STEPS:-1500}"
mkdir -p "$RUNS"

# snapshot DIR: copy the checkout's CLI build (building it first if the sources changed) into DIR
snapshot() {
  "$ROOT/dalle" --help >/dev/null
  rm -rf "$1.partial" && mkdir -p "$1.partial"
  cp "$ROOT/cli/target/dalle-cli.jar" "$1.partial/" && cp -r "$ROOT/cli/target/lib" "$1.partial/"
  rm -rf "$1" && mv "$1.partial" "$1"
}

# dalle BIN ARGS...: the CLI copied into BIN, launched as ./dalle launches it (its malloc settings and thread count)
dalle() {
  local bin="$1"; shift
  MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-4294967296}" MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-68719476736}" \
  MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-536870912}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" \
  java ${DALLE_JAVA_OPTS:--Xmx8g} -Dai.djl.pytorch.num_threads="${DALLE_THREADS:-1}" -Dai.djl.offline=true \
       -Ddalle.home="$ROOT" -cp "$bin/dalle-cli.jar:$bin/lib/*" dalle.cli.DalleCommand "$@"
}

# train KIND STEPS ARGS...: a run in RUNS/KIND, resumed when it already checkpointed, skipped when done
train() {
  local kind="$1" steps="$2"; shift 2
  local dir="$RUNS/$kind"
  if [ -f "$dir/model/config.json" ]; then
    echo "train-emoji: $kind already trained ($dir/model)"
    return 0
  fi
  local resume=()
  [ -d "$dir/checkpoint" ] && resume=(--resume)
  dalle "$RUNS/bin" train "$kind" --data "$DATA/train" --steps "$steps" --out "$dir" "${resume[@]}" "$@"
}

"$ROOT/dalle" data emoji --out "$DATA"    # downloads and prepares once; a no-op when DATA holds the data
[ -f "$RUNS/bin/dalle-cli.jar" ] || snapshot "$RUNS/bin"

train clip "$CLIP_STEPS" --preset tiny --checkpoint-every 250 > "$RUNS/clip.log" 2>&1 &
clip_pid=$!
train dvae "$DVAE_STEPS" --config "$CONFIGS/dvae.json" --recipe shapes --checkpoint-every 100 2>&1 | tee "$RUNS/dvae.log"
wait "$clip_pid" || { echo "train-emoji: the reranker failed, see $RUNS/clip.log" >&2; exit 1; }
train prior "$PRIOR_STEPS" --config "$CONFIGS/prior.json" --dvae "$RUNS/dvae" --tokenizer "$RUNS/clip/tokenizer.json" \
    --checkpoint-every 100 2>&1 | tee "$RUNS/prior.log"

snapshot "$RUNS/bin-final"
dalle "$RUNS/bin-final" bundle assemble --name emoji --tokenizer "$RUNS/clip/tokenizer.json" --dvae "$RUNS/dvae" \
    --prior "$RUNS/prior" --clip "$RUNS/clip" --out "$RUNS/bundle" --f16 --force
mkdir -p "$INSTALL"
rm -rf "$INSTALL/bundle.json" "$INSTALL/dvae" "$INSTALL/prior" "$INSTALL/clip"
cp -r "$RUNS/bundle/dvae" "$RUNS/bundle/prior" "$RUNS/bundle/clip" "$RUNS/bundle/tokenizer.json" "$INSTALL/"
cp "$RUNS/bundle/bundle.json" "$INSTALL/"       # last: a bundle.json only ever names parts that are all there
echo "train-emoji: bundle installed in $INSTALL"
dalle "$RUNS/bin-final" eval --model "$INSTALL" --data "$DATA" --out "$RUNS/eval"
