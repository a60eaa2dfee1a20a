#!/usr/bin/env bash
# The paper configuration at the CPU recipe's budget (issue 11, docs/evaluation.md): 128 px,
# G width 64 x 6 residual blocks, critic width 64 x 6 layers, batch 25, n_critic 5, Adam 1e-4,
# no identity term, no EMA (every setting the trainer's paper default), bf16 autocast (the CPU
# path, not part of either recipe), one torch thread, on the same demo training set. --steps is
# chosen so the run takes about the recipe's ~100 minutes of one thread on this machine (the last
# third a linear decay, as in the recipe run).
#   RUN=/work/runs/paper128 DATA=/work/runs/demo128
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-/work/runs/demo128}
RUN=${RUN:-/work/runs/paper128}
[ -f "$DATA/meta.json" ] || .venv/bin/python examples/demo_model/prepare_data.py --out "$DATA"
resume=()
[ -d "$RUN/checkpoints" ] && resume=(--resume)
OMP_NUM_THREADS=1 .venv/bin/ganimate train "$DATA" -o "$RUN" "${resume[@]}" --image-size 128 \
    --steps 460 --precision bf16 --workers 0 --device cpu --sample-every 180 --log-every 10 \
    --checkpoint-every 30 --keep 3 --seed 0 2>> "$RUN.log"
