#!/usr/bin/env bash
# The photo protocol (docs/evaluation.md) for one engine or generator export, on the 26 held-out
# London people: a smile (with the null edit and dlib identity) and an open mouth.
#   eval_photos.sh OUTDIR ENGINE [MODEL]      e.g. eval_photos.sh /tmp/ev hybrid run/g.safetensors
# writes OUTDIR/ENGINE-smile{.txt,/report.json} and OUTDIR/ENGINE-mouth{.txt,/report.json}.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1; engine=$2; model=${3:-}
london=tests/data/faces/london
mkdir -p "$out"
args=("$london/neutral" --ids examples/demo_model/holdout.txt --reference "$london/smiling"
      --engine "$engine")
[ -n "$model" ] && args+=(-c "$model")
.venv/bin/ganimate -q eval photos "${args[@]}" --au AU06=0.8 --au AU12=0.9 \
    -o "$out/$engine-smile" > "$out/$engine-smile.txt" 2>&1
.venv/bin/ganimate -q eval photos "${args[@]}" --au AU25=1 --au AU26=0.8 --no-null-edit \
    --no-identity -o "$out/$engine-mouth" > "$out/$engine-mouth.txt" 2>&1
