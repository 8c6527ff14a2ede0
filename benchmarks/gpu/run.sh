#!/usr/bin/env bash
# The paper-scale benchmark runs on one GPU, each under a time limit.
#   bash benchmarks/gpu/run.sh MINUTES [GROUP...]   GROUP: a file of jobs.d/ (default: all)
#   PARALLEL=1 bash benchmarks/gpu/run.sh ...        all jobs at once, sharing the GPU
# MINUTES is each job's training budget; a job sizes its epochs by timing its own steps, so run
# in parallel it must time them while the others run (they all start together), and a job that
# still overruns is stopped at MINUTES + 100 s and its best validated weights scored (`scored`).
# Writes benchmarks/results/*-gpu*.json and packs them with the logs into $OUT/gpu-results.tgz.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
: "${PERCEPTZOO_COMMIT:?set PERCEPTZOO_COMMIT to the hash of the commit being run (the git history in the GPU copy is stale)}"
export PYTHONPATH=$PWD/src:$PWD/.gpu_data/pylib PERCEPTZOO_DATA=$PWD/.gpu_data PYTHONUNBUFFERED=1
minutes=${1:-6}
shift || true
groups=${*:-$(cd benchmarks/gpu/jobs.d && ls *.sh | sed 's/\.sh$//')}
limit=$(( ${minutes%.*} * 60 + 100 ))
out=${OUT:-/tmp/gpu-out}
logs=$root/benchmarks/work/gpu-logs
mkdir -p "$out" "$logs"
if [ -z "${DRY:-}" ]; then
  nvidia-smi -L
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
fi

run_job() {  # run_job EVAL_ONLY NAME COMMAND...: a time limit and a log
  local eval_only=$1 name=$2; shift 2
  if [ -n "${DRY:-}" ]; then echo "job $name: $*"; return; fi
  timeout "$limit" "$@" > "$logs/$name.log" 2>&1
  local rc=$?
  echo "$name exit $rc"
  if [ "$rc" = 124 ] && [ "$eval_only" = 1 ]; then  # over time: score the best weights so far
    timeout 90 "$@" --eval-only >> "$logs/$name.log" 2>&1
    echo "$name scored after the time limit: exit $?"
  fi
}
job() { if [ -n "${PARALLEL:-}" ]; then run_job 0 "$@" & else run_job 0 "$@"; fi; }
scored() { if [ -n "${PARALLEL:-}" ]; then run_job 1 "$@" & else run_job 1 "$@"; fi; }

cd benchmarks
for group in $groups; do
  source "gpu/jobs.d/$group.sh"
done
wait
cd ..
[ -n "${DRY:-}" ] && exit 0
tail -n 3 "$logs"/*.log
tar czf "$out/gpu-results.tgz" benchmarks/results/*gpu*.json benchmarks/work/gpu-logs \
  benchmarks/figures/*gpu* 2>/dev/null
# the small autoregressive runs come back without their checkpoints (weights, config, log,
# samples: a few MB each), one archive each (a returned file may have 16 MiB, 8 files in all),
# to be re-scored on CPU
for run in $(ls -d benchmarks/work/*-binarized_mnist*gpu* 2>/dev/null | grep -v made); do
  tar czf "$out/$(basename "$run").tgz" $(find "$run" -name config.json -o -name metrics.jsonl \
    -o -name model.safetensors -o -name samples.png)
done
ls -la "$out"
