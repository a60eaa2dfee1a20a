#!/usr/bin/env bash
# Every expression preset (and the teeth check of issue 20) through the photo protocol on the 26
# held-out London people (docs/evaluation.md, "Expressions read by a classifier"): the FER-2013
# classifier's table, the teeth share inside dlib's inner lips, identity, pixels.
#   eval_presets.sh OUTDIR [ENGINE]      e.g. eval_presets.sh /tmp/presets warp
# writes OUTDIR/PRESET{.txt,/report.json} for happy sad surprise fear anger disgust, and
# OUTDIR/teeth{.txt,/report.json} for --au AU06=0.8 --au AU12=1 --au AU25=0.7 --au AU26=0.2.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1; engine=${2:-warp}
london=tests/data/faces/london
mkdir -p "$out"
args=("$london/neutral" --ids examples/demo_model/holdout.txt --reference "$london/smiling"
      --engine "$engine")
for preset in happy sad surprise fear anger disgust; do
    .venv/bin/ganimate -q eval photos "${args[@]}" -e "$preset" -o "$out/$preset" \
        > "$out/$preset.txt" 2>&1
done
.venv/bin/ganimate -q eval photos "${args[@]}" --au AU06=0.8 --au AU12=1 --au AU25=0.7 \
    --au AU26=0.2 -o "$out/teeth" > "$out/teeth.txt" 2>&1
