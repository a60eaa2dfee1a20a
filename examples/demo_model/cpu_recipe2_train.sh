#!/usr/bin/env bash
# The CPU recipe model, second run (issue 11): the first run's recipe (64 px, G width 32 x 4
# residual blocks, critic width 32 x 4 layers, batch 16, n_critic 2, Adam 2e-4, identity term 10,
# EMA 0.999, bf16 autocast, one torch thread) plus two fixes for its colour fringes: resize-conv
# upsampling in G (no checkerboard) and the colour-mask prior L1(C, I) at weight 1. 5,200 steps (the
# last third a linear decay), run side by side with the paper configuration
# (cpu_paper_train.sh) in the same ~100 minutes on a 2-core EPYC, on the demo training set
# (UTKFace + London minus the holdout: NON-COMMERCIAL RESEARCH AND DEMONSTRATION ONLY).
#   RUN=/work/runs/cpu64_recipe2 DATA=/work/runs/demo128
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-/work/runs/demo128}
RUN=${RUN:-/work/runs/cpu64_recipe2}
[ -f "$DATA/meta.json" ] || .venv/bin/python examples/demo_model/prepare_data.py --out "$DATA"
resume=()
[ -d "$RUN/checkpoints" ] && resume=(--resume)
OMP_NUM_THREADS=1 .venv/bin/ganimate train "$DATA" -o "$RUN" "${resume[@]}" --image-size 64 \
    --g-width 32 --g-blocks 4 --d-width 32 --d-layers 4 --g-upsample resize -b 16 --steps 5200 \
    --n-critic 2 --lr-g 2e-4 --lr-d 2e-4 --lambda-idt 10 --lambda-colour 1 --ema 0.999 \
    --precision bf16 --workers 0 --device cpu --sample-every 1000 --log-every 50 \
    --checkpoint-every 250 --keep 4 --seed 0 2>> "$RUN.log"
