#!/usr/bin/env bash
# The CPU recipe model (issue 11, first run): 64 px, G width 32 x 4 residual blocks, critic width
# 32 x 4 layers, batch 16, n_critic 2, Adam 2e-4, identity term 10, EMA 0.999, bf16 autocast, one
# torch thread (the machine was shared with other work), 6,000 steps (~10.8 epochs; the last third a
# linear decay to 0), on the demo training set (UTKFace + London minus the holdout:
# NON-COMMERCIAL RESEARCH AND DEMONSTRATION ONLY). ~100 minutes on a shared 2-core EPYC.
# The run folder and dataset live outside the work tree so a later session can resume them:
#   RUN=/work/runs/cpu64_recipe DATA=/work/runs/demo128
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-/work/runs/demo128}
RUN=${RUN:-/work/runs/cpu64_recipe}
[ -f "$DATA/meta.json" ] || .venv/bin/python examples/demo_model/prepare_data.py --out "$DATA"
resume=()
[ -d "$RUN/checkpoints" ] && resume=(--resume)
OMP_NUM_THREADS=1 .venv/bin/ganimate train "$DATA" -o "$RUN" "${resume[@]}" --image-size 64 \
    --g-width 32 --g-blocks 4 --d-width 32 --d-layers 4 -b 16 --steps 6000 --n-critic 2 \
    --lr-g 2e-4 --lr-d 2e-4 --lambda-idt 10 --ema 0.999 --precision bf16 --workers 0 \
    --device cpu --sample-every 1000 --log-every 50 --checkpoint-every 250 --keep 4 --seed 0 \
    2> "$RUN.log"
.venv/bin/python examples/demo_model/package_model.py "$RUN" "$DATA" \
    --name standin-cpu-recipe-64px --standin --data utkface --remove-others \
    --device-note "CPU (AMD EPYC, AVX512-BF16), 1 torch thread, shared 2 cores, ~100 min, 6,000 steps, bf16"
