#!/usr/bin/env bash
# How the CPU stand-in in ganimate/models/ was made (2-core shared CPU, ~10 minutes of training).
# London set only (CC BY), minus the holdout; 64 px; a small generator and critic. It exists so
# that `ganimate demo`, `edit` and `animate` work out of the box until the GPU model is trained
# (README.md); it is labelled a stand-in in its file name, metadata and model card.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/python examples/demo_model/prepare_data.py --out carry/standin64 --size 64 --london-only
# One torch thread: on this 2-core machine shared with other jobs, 2 threads ran 8x slower
# (oversubscription). n_critic 2 and lr 2e-4 (paper: 5 and 1e-4) give the generator more updates
# in the few steps a CPU affords. SIGINT at the time box saves a checkpoint and stops.
rm -rf carry/standin_run
OMP_NUM_THREADS=1 timeout -s INT 630 .venv/bin/ganimate -q train carry/standin64 \
    -o carry/standin_run --image-size 64 --g-width 24 --g-blocks 3 --d-width 24 --d-layers 4 \
    -b 16 --steps 1500 --n-critic 2 --lr-g 2e-4 --lr-d 2e-4 --workers 0 --device cpu \
    --sample-every 250 --log-every 25 --checkpoint-every 500 --seed 0 || true
.venv/bin/python examples/demo_model/package_model.py carry/standin_run/checkpoints/"$(ls \
    carry/standin_run/checkpoints | tail -1)" carry/standin64 --name standin-cpu-64px \
    --standin --data london --device-note "CPU, 2 shared cores, 1 thread, ~10.5 min"
.venv/bin/python examples/demo_model/evaluate_holdout.py -o carry/standin_run/holdout.json || true
