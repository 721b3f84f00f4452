#!/usr/bin/env bash
# The model card's sample sheet: six captions (three seen, two held-out gesture × skin-tone pairs, one held-out
# name), 8 candidates each with seed 0, the 4 best after reranking beside the true rendering:
#   models/emoji/samples.sh [BUNDLE] [OUT.png]     (defaults: models/emoji, models/emoji/samples.png)
# Needs the prepared data (./dalle data emoji) for the true renderings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${1:-$ROOT/models/emoji}"
OUT="${2:-$ROOT/models/emoji/samples.png}"
DATA="${EMOJI_DATA:-$ROOT/.dalle/data/emoji}"
WORK="$ROOT/.dalle/emoji-samples"
rm -rf "$WORK" && mkdir -p "$WORK"
rows=()
i=0
while IFS='|' read -r truth caption; do
  i=$((i + 1))
  "$ROOT/dalle" generate -m "$BUNDLE" "$caption" -n 8 -k 4 -s 0 -o "$WORK/$i" >/dev/null
  rows+=("$DATA/$truth:$WORK/$i")
done <<'CAPTIONS'
train/03780-twitter-1f600.png|twemoji grinning face; grinning; smileys & emotion, face smiling
train/04693-google-1f34e.png|noto emoji red apple; apple; food & drink, food fruit
train/01387-twitter-1f431.png|twemoji cat face; cat; animals & nature, animal mammal
held-out/twitter-1f44e-1f3ff.png|twemoji thumbs down sign, dark skin tone; -1, thumbsdown; people & body, hand fingers closed
held-out/google-270c-1f3fd.png|noto emoji victory hand, medium skin tone; v; people & body, hand fingers partial
held-out/google-1f420.png|noto emoji tropical fish; animals & nature, animal marine
CAPTIONS
java "$ROOT/models/emoji/SampleSheet.java" "$OUT" 4 "${rows[@]}"
echo "$OUT"
