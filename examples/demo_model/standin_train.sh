#!/usr/bin/env bash
# How the CPU stand-in in ganimate/models/ was made: 2-core CPU, ~32 minutes of training, 64 px,
# a small generator and critic, on the demo training set (UTKFace crop_part1 + the London set
# minus the holdout; see prepare_data.py). UTKFace makes it NON-COMMERCIAL RESEARCH AND
# DEMONSTRATION ONLY, like the real model will be. It exists so that `ganimate demo`, `edit` and
# `animate` work out of the box until the GPU model is trained; it is labelled a stand-in in its
# file name, metadata and model card, and every command that uses it says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The 128 px crops (carry/demo128, also what the GPU run trains on); train reads them at 64 px.
[ -f carry/demo128/meta.json ] || .venv/bin/python examples/demo_model/prepare_data.py --out carry/demo128
# n_critic 2 and lr 2e-4 (paper: 5 and 1e-4) give the generator more updates in the few steps a
# CPU affords; 7,000 steps of batch 16 are ~12 epochs, the last third a linear decay to 0.
# Run on an otherwise idle machine: 2 torch threads gave ~58 images/s.
rm -rf carry/cpu64_run
.venv/bin/ganimate -q train carry/demo128 -o carry/cpu64_run --image-size 64 --g-width 24 \
    --g-blocks 3 --d-width 24 --d-layers 4 -b 16 --steps 7000 --n-critic 2 --lr-g 2e-4 \
    --lr-d 2e-4 --workers 0 --device cpu --sample-every 1000 --log-every 50 \
    --checkpoint-every 500 --seed 0
.venv/bin/python examples/demo_model/package_model.py \
    carry/cpu64_run/checkpoints/step_00007000.safetensors carry/demo128 --name standin-cpu-64px \
    --standin --data utkface --remove-others \
    --device-note "CPU, 2 cores, 2 threads, 32 min (7,000 steps at ~58 images/s)"
.venv/bin/python examples/demo_model/evaluate_holdout.py -o examples/demo_model/standin-holdout.json || true
