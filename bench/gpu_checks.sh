#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (CI has no GPU, so they never run there):
#   TINYVGG_DATA=folder-with-the-four-IDX-files bench/gpu_checks.sh [OUT_DIR [STEP...]]
# 1. tests/test_cuda.py (the captured step, device placement, the explorer's numbers on CUDA)
# 2. bench/train_speed.py --epochs 3 on CUDA (target: ratio 15)
# 3. bench/cuda_probe.py (TF32 against full fp32, graphs against eager steps, repeatability)
# 4. the CLIs on CUDA, then tests/test_train.py (this PyTorch may not be the one CI runs)
# 5. bench/jobs_gpu.py: a Celery worker with TINYVGG_DEVICE=cuda trains jobs sent through Redis
#    (needs redis-server on PATH and celery importable)
# STEPs (default: all): cuda_tests train_speed cuda_probe cli train_tests jobs. Each has its own
# time limit; one failing does not stop the others. Logs go to OUT_DIR/STEP.log.
set -u
cd "$(dirname "$0")/.."
out=${1:-gpu-checks}
shift $(($# > 0))
wanted=" ${*:-cuda_tests train_speed cuda_probe cli train_tests jobs} "
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 TINYVGG_NO_DOWNLOAD=1
export TINYVGG_CACHE=${TINYVGG_CACHE:-$(mktemp -d)}

step() {  # step NAME SECONDS COMMAND...: run, log to OUT_DIR/NAME.log, report the exit status
    local name=$1 limit=$2
    shift 2
    [[ $wanted == *" $name "* ]] || return 0
    echo "=== $name: $*"
    local t0=$SECONDS
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$out/$name.log"
    echo "=== $name: exit $rc in $((SECONDS - t0)) s"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$py" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision",
torchvision.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'

step cuda_tests 240 "$py" -m pytest -q -s -rs -p no:cacheprovider tests/test_cuda.py
step train_speed 200 "$py" bench/train_speed.py --epochs 3 --device cuda
step cuda_probe 200 "$py" bench/cuda_probe.py --epochs 3
step cli 120 bash -c "$py -m tinyvgg.train --epochs 1 --device cuda --out $out/cli.pt \
    && $py -m tinyvgg.evaluate --checkpoint $out/cli.pt --device cuda \
    && $py -m tinyvgg.evaluate --checkpoint $out/cli.pt --device cpu \
    && $py -m tinyvgg.evaluate --device cuda"
step train_tests 240 "$py" -m pytest -q -rs -p no:cacheprovider tests/test_train.py
step jobs 200 "$py" bench/jobs_gpu.py --device cuda
