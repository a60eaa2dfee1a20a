#!/usr/bin/env bash
# One chunk of the demo model's GPU training, run on a GPU machine from the repo root:
#
#   examples/demo_model/gpu_chunk.sh start   # first call: probe speed, plan the run, train
#   examples/demo_model/gpu_chunk.sh resume  # next calls: --resume up to the next --stop-at
#   examples/demo_model/gpu_chunk.sh final   # last call: --resume to the end (or the time box)
#
# Every chunk is time-boxed (CHUNK_S, 8 minutes by default, for machines with a per-job time
# limit): `timeout -s INT` makes the trainer save a checkpoint and exit cleanly (Ctrl-C semantics)
# if the planned --stop-at is not reached in CHUNK_S seconds. Every chunk then exports the newest
# generator in fp16 and copies the run's config, log and newest sample grid to $OUT, so the latest
# model is at hand whatever happens to the machine afterwards (the fp16 export of the paper's
# generator is ~8.5 MB; ~17 MB in fp32).
#
# The run folder lives outside the repo ($RUN, default /root/demo_run; a full training state with
# the critic and both Adam states is ~600 MB). If it is gone between chunks, `resume` says so and
# the last export in $OUT is the result.
#
# Settings (environment): DATA [carry/demo128], RUN [/root/demo_run], BUDGET_S [1260: seconds of
# training the whole run is planned for, over all chunks], CHUNK_S [480], BATCH [25], ARGS [extra
# `ganimate train` options of the run, e.g. for a CPU dry run of this script: "--image-size 64
# --g-width 8 --g-blocks 1 --d-width 8 --d-layers 4 --device cpu --workers 0"].
set -uo pipefail
phase="${1:?usage: gpu_chunk.sh start|resume|final}"
DATA="${DATA:-carry/demo128}"
RUN="${RUN:-/root/demo_run}"
BUDGET_S="${BUDGET_S:-1260}"
CHUNK_S="${CHUNK_S:-480}"
BATCH="${BATCH:-25}"
ARGS="${ARGS:-}"
OUT="${OUT:-/tmp/demo_out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
py="${PY:-python3}"  # the GPU image's python3 holds torch; PY=.venv/bin/python here
log="$OUT/train_$phase.log"

train() {  # train [extra args...]: one time-boxed chunk
    timeout -s INT -k 60 "$CHUNK_S" $py -m ganimate -q train "$DATA" --out "$RUN" "$@" \
        2>&1 | tee -a "$log"
    return "${PIPESTATUS[0]}"
}

case "$phase" in
start)
    { nvidia-smi -L; $py -c "import torch, numpy; print('torch', torch.__version__, 'numpy',
numpy.__version__, torch.cuda.get_device_name())"; } 2>&1 | tee "$log"
    [ -f "$DATA/meta.json" ] || { echo "error: $DATA missing: carry it" | tee -a "$log"; exit 1; }
    # Speed probe: 60 steps of the real configuration in a scratch run (includes warm-up).
    rm -rf /tmp/probe "$RUN"
    timeout 240 $py -m ganimate -q train "$DATA" --out /tmp/probe -b "$BATCH" --steps 60 \
        $ARGS --log-every 10 --sample-every 0 --checkpoint-every 1000 2>&1 | tail -2 | tee -a "$log"
    # steps/s from the last logged records (past the warm-up)
    rate=$($py - <<'EOF'
import json
recs = [json.loads(line) for line in open("/tmp/probe/log.jsonl")]
a, b = recs[-4], recs[-1]
print(f"{(b['step'] - a['step']) / (b['time'] - a['time']):.3f}")
EOF
)
    total=$($py -c "print(int($rate * $BUDGET_S))")
    stop=$($py -c "print(min($total, int($rate * ($CHUNK_S - 60))))")
    echo "probe: $rate steps/s -> planned --steps $total, first --stop-at $stop" | tee -a "$log"
    echo "$total $rate" > "$RUN.plan"
    rm -rf /tmp/probe
    train -b "$BATCH" $ARGS --steps "$total" --stop-at "$stop" --log-every 25 --sample-every 500 \
        --checkpoint-every 100000 --keep 2
    ;;
resume|final)
    [ -f "$RUN.plan" ] || { echo "error: $RUN is gone (the machine went cold): use the last" \
        "export in \$OUT of the previous call, or start again" | tee "$log"; exit 1; }
    read -r total rate < "$RUN.plan"
    done=$(ls "$RUN"/checkpoints/ | sed -n 's/step_0*\([0-9][0-9]*\).safetensors/\1/p' | sort -n \
        | tail -1)
    if [ "$phase" = final ]; then stop="$total"
    else stop=$($py -c "print(min($total, $done + int($rate * ($CHUNK_S - 60))))"); fi
    echo "resume at step $done of $total, --stop-at $stop" | tee "$log"
    train --resume --stop-at "$stop"
    ;;
*) echo "usage: gpu_chunk.sh start|resume|final" >&2; exit 2 ;;
esac
status=$?

# Bring back what there is: fp16 generator, config, log, newest sample grid.
newest=$(ls "$RUN"/checkpoints/*.safetensors 2>/dev/null | sort | tail -1)
if [ -n "$newest" ]; then
    $py -m ganimate export "$newest" -o "$OUT/demo128.generator.safetensors" | tee -a "$log"
fi
cp "$RUN/config.json" "$RUN/log.jsonl" "$OUT/" 2>/dev/null
sample=$(ls "$RUN"/samples/*.png 2>/dev/null | sort | tail -1)
[ -n "$sample" ] && cp "$sample" "$OUT/samples_$(basename "$sample")"
ls -la "$OUT"
exit "$status"
