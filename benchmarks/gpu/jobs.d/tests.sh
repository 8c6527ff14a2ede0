# GPU tests (sourced by benchmarks/gpu/run.sh, inside benchmarks/): every model trains,
# evaluates and samples on the device (tests/test_gpu.py, marked gpu), 8 processes at once
job gpu-tests bash -c "cd .. && python3 -m pytest -m gpu -q -n 8 --timeout 120 \
  -p no:cacheprovider tests/test_gpu.py"
