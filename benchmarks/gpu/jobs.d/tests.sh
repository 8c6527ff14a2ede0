# GPU tests (sourced by benchmarks/gpu/run.sh, inside benchmarks/): every model trains,
# evaluates and samples on the device (tests/test_gpu.py, marked gpu), 4 processes at once
job gpu-tests bash -c "cd .. && python3 -m pytest -m gpu -q -n 4 --timeout 150 \
  -p no:cacheprovider tests/test_gpu.py"
