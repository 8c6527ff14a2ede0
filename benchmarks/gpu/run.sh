#!/usr/bin/env bash
# The paper-scale benchmark runs, on one GPU, one after another (run in parallel, each job sized
# its budget by timing itself alone and then ran ~5x slower: 2026-11-26), each under a time limit.
#   bash benchmarks/gpu/run.sh MINUTES      (MINUTES: training budget of each job)
# Writes benchmarks/results/*-gpu*.json and packs them with the logs into $OUT/gpu-results.tgz.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
export PYTHONPATH=$PWD/src:$PWD/.gpu_data/pylib PERCEPTZOO_DATA=$PWD/.gpu_data PYTHONUNBUFFERED=1
minutes=${1:-6}
limit=$(( minutes * 60 + 100 ))
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out" benchmarks/work/gpu-logs
if [ -z "${DRY:-}" ]; then
  nvidia-smi -L
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
fi

job() {  # job NAME COMMAND...: run with a time limit and a log, then the next
  local name=$1; shift
  if [ -n "${DRY:-}" ]; then echo "job $name: $*"; return; fi
  timeout "$limit" "$@" > "$root/benchmarks/work/gpu-logs/$name.log" 2>&1
  echo "$name exit $?"
}

cd benchmarks
job made-1mask python3 made.py binarized_mnist 1mask --device cuda --minutes "$minutes" --tag gpu
job made-32masks python3 made.py binarized_mnist 32masks --device cuda --minutes "$minutes" --tag gpu
job made-32masks-orders python3 made.py binarized_mnist 32masks-orders --device cuda \
  --minutes "$minutes" --patience 15 --tag gpu
# family jobs: each family's GPU-scale config, if its script supports it
for extra in gpu/jobs.d/*.sh; do
  [ -f "$extra" ] && source "$extra"
done
cd ..
tail -n 3 benchmarks/work/gpu-logs/*.log
tar czf "$out/gpu-results.tgz" benchmarks/results/*gpu*.json benchmarks/work/gpu-logs benchmarks/figures 2>/dev/null
ls -la "$out"
