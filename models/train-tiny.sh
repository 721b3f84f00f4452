#!/usr/bin/env bash
# Trains the shipped `tiny` bundle from scratch on the built-in `shapes` data, exactly as MODEL_CARD.md
# reports it, then evaluates it:
#   models/train-tiny.sh [RUNS_DIR]          (default RUNS_DIR: .dalle/train-tiny)
# The dVAE and the reranker train side by side (one core each), then the prior on the dVAE's codes.
# Every run checkpoints; running the script again resumes whatever did not finish.
# Output: RUNS_DIR/{dvae,clip,prior} (runs with metrics.jsonl and loss.png), RUNS_DIR/bundle (the
# assembled fp16 bundle) and RUNS_DIR/eval (eval.md, eval.json, accuracy-vs-n.png).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-$ROOT/.dalle/train-tiny}"
DALLE="$ROOT/dalle"
DVAE_STEPS="${DVAE_STEPS:-2500}"
CLIP_STEPS="${CLIP_STEPS:-4000}"
PRIOR_STEPS="${PRIOR_STEPS:-6000}"
mkdir -p "$RUNS"
"$DALLE" --help >/dev/null # build the CLI once, before two runs start side by side

# train KIND STEPS ARGS...: a run in RUNS/KIND, resumed when it already checkpointed, skipped when done
train() {
  local kind="$1" steps="$2"; shift 2
  local dir="$RUNS/$kind"
  if [ -f "$dir/model/config.json" ]; then
    echo "train-tiny: $kind already trained ($dir/model)"
    return 0
  fi
  local resume=()
  [ -d "$dir/checkpoint" ] && resume=(--resume)
  "$DALLE" train "$kind" --preset tiny --data shapes --steps "$steps" --out "$dir" "${resume[@]}" "$@"
}

train clip "$CLIP_STEPS" > "$RUNS/clip.log" 2>&1 &
clip_pid=$!
train dvae "$DVAE_STEPS" --recipe shapes --checkpoint-every 250 2>&1 | tee "$RUNS/dvae.log"
wait "$clip_pid" || { echo "train-tiny: the reranker failed, see $RUNS/clip.log" >&2; exit 1; }
train prior "$PRIOR_STEPS" --dvae "$RUNS/dvae" --tokenizer "$RUNS/clip/tokenizer.json" 2>&1 | tee "$RUNS/prior.log"

"$DALLE" bundle assemble --tokenizer "$RUNS/clip/tokenizer.json" --dvae "$RUNS/dvae" --prior "$RUNS/prior" \
    --clip "$RUNS/clip" --out "$RUNS/bundle" --f16 --force
"$DALLE" eval --model "$RUNS/bundle" --out "$RUNS/eval"
